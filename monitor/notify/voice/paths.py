"""Where Twilio fetches a call's words and posts its keys and fate, below ``[web] public_url``.

Each URL names the notification the call carries, and Twilio signs the whole URL: a request
for another notification cannot be made without the auth token.
"""

from __future__ import annotations

#: the call's first words (Twilio fetches them when the call is answered)
TWIML_PATH = "/twilio/voice/twiml"
#: the key pressed
GATHER_PATH = "/twilio/voice/gather"
#: the call's progress and fate
STATUS_PATH = "/twilio/voice/status"
#: the query key naming the notification
NOTIFICATION = "notification"


def call_url(public_url: str, path: str, notification_id: int) -> str:
    return f"{public_url}{path}?{NOTIFICATION}={notification_id}"
