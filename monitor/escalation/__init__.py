"""Escalation: whom an open alert asks next, on which channels, and when; tier after tier, round
after round, until a person takes it (``engine``), with its policies (``policy``), the audience
of a step (``audience``, ``step_reads``) and the timers (``timer``)."""
