"""The actions door: what devices, SMS replies, the console, the API and supervision do to alerts,
all through ``AlertActions`` (``alert_actions``); replies and their grammar, console actions,
feedback to devices."""
