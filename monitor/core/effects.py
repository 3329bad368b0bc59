"""What a committed transaction asks the rest of the monitor to do next.

Database work collects these while it runs; the caller carries them out only after the
commit, so nothing outside the database (an MQTT feedback message, a wake-up of the SMS
sender, a console update) ever reflects a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeviceFeedback:
    topic: str
    payload: dict[str, str | int | None]


@dataclass(frozen=True, slots=True)
class ClaimedSms:
    """An SMS row claimed for sending (committed as ``claimed`` before the provider is called)."""

    id: int
    phone: str
    body: str
    attempts: int
    claimed_at: datetime
    #: lower goes to the provider first (monitor.notify.requests.PRIORITY)
    priority: int


@dataclass(slots=True)
class Effects:
    feedback: list[DeviceFeedback] = field(default_factory=list)
    #: SMS rows this transaction queued, already claimed: send them right after the commit
    sms_to_send: list[ClaimedSms] = field(default_factory=list)
    #: SMS rows this transaction queued as pending: the outbox should look at once
    sms_waiting: bool = False
    #: the earliest escalation timer this transaction set (the escalation loop may need to wake)
    next_step_at: datetime | None = None
    changed_alert_ids: set[int] = field(default_factory=set)

    def merge(self, other: Effects) -> None:
        self.feedback.extend(other.feedback)
        self.sms_to_send.extend(other.sms_to_send)
        self.sms_waiting |= other.sms_waiting
        self.timer_set(other.next_step_at)
        self.changed_alert_ids |= other.changed_alert_ids

    def timer_set(self, at: datetime | None) -> None:
        if at is not None and (self.next_step_at is None or at < self.next_step_at):
            self.next_step_at = at


#: Carries out a transaction's effects once it has committed.
AfterCommit = Callable[[Effects], Awaitable[None]]
