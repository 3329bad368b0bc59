"""A call's progress in the words every notification uses (``monitor.notify.delivery``).

A call moves queued -> ringing -> answered -> completed, or ends busy, not answered, failed or
cancelled. Recorded as a notification: ringing is "sending", answered is "sent", completed
by a person is "delivered" (they heard it, whether or not they pressed a key). Busy, not
answered, cancelled and an answering machine are "undelivered" with that reason as the
error code, a failure is "failed": each one means the person was not reached, and escalation
moves on at once when nobody at the tier can be (``Escalation.on_unreachable``).
"""

from __future__ import annotations

from monitor.notify.requests import NotificationStatus

PROGRESS: dict[str, NotificationStatus] = {
    "queued": NotificationStatus.QUEUED,
    "initiated": NotificationStatus.QUEUED,
    "ringing": NotificationStatus.SENDING,
    "in-progress": NotificationStatus.SENT,
    "answered": NotificationStatus.SENT,
    "completed": NotificationStatus.DELIVERED,
    "busy": NotificationStatus.UNDELIVERED,
    "no-answer": NotificationStatus.UNDELIVERED,
    "canceled": NotificationStatus.UNDELIVERED,
    "failed": NotificationStatus.FAILED,
}
#: what an undelivered call's error code says
NOT_REACHED_BECAUSE: dict[str, str] = {"busy": "busy", "no-answer": "no-answer", "canceled": "canceled"}
MACHINE = "machine"


def answered_by_machine(answered_by: str | None) -> bool:
    """Twilio's answering-machine detection said a machine (or a fax) took the call."""
    return answered_by is not None and answered_by.lower().startswith(("machine", "fax"))


def call_progress(call_status: str, answered_by: str | None = None) -> tuple[str, str | None] | None:
    """(notification status, error code) for a call status and ``AnsweredBy``; None for one unknown."""
    status = PROGRESS.get(call_status.lower())
    if status is None:
        return None
    if answered_by_machine(answered_by) and status in (NotificationStatus.SENT, NotificationStatus.DELIVERED):
        return NotificationStatus.UNDELIVERED.value, MACHINE
    return status.value, NOT_REACHED_BECAUSE.get(call_status.lower())
