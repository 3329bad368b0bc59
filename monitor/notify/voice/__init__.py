"""Calling people through Twilio Voice: the channel, what a call says (TwiML), and a call's fate."""
