"""Notifications: reaching one person about one alert on one channel.

Requests are queued as rows in the transaction that decides them (``requests``), written in
one place per message (``texts``), sent at most once each by the outbox through their
channel (``channel``, ``channels``, ``outbox``), and followed by the provider's delivery
reports (``delivery``). SMS is a channel (``sms/``: Twilio, segment counting, each phone's
limit and digests); ``log_channel`` only writes to the log."""
