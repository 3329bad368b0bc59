"""Alerts: their kinds and states, the one transition table (``lifecycle``), and how they are shown
(``views``). What people and devices do to alerts is the actions door (``monitor.actions``)."""
