"""What a committed transaction asks the rest of the monitor to do next.

Database work collects these while it runs; the caller carries them out only after the
commit, so nothing outside the database (an MQTT feedback message, a wake-up of the SMS
sender, a console update) ever reflects a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DeviceFeedback:
    topic: str
    payload: dict[str, str | int | None]


@dataclass(slots=True)
class Effects:
    feedback: list[DeviceFeedback] = field(default_factory=list)
    #: new SMS rows are waiting to be sent
    sms_queued: bool = False
    #: an alert's escalation schedule changed
    schedule_changed: bool = False
    changed_alert_ids: set[int] = field(default_factory=set)

    def merge(self, other: Effects) -> None:
        self.feedback.extend(other.feedback)
        self.sms_queued |= other.sms_queued
        self.schedule_changed |= other.schedule_changed
        self.changed_alert_ids |= other.changed_alert_ids


#: Carries out a transaction's effects once it has committed.
AfterCommit = Callable[[Effects], Awaitable[None]]
