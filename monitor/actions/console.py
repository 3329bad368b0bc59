"""What duty staff do to an alert from the console or the API.

Each action runs in the caller's transaction, goes through ``AlertActions`` (so an alert
taken at the console behaves exactly like one taken by SMS) and writes the alert's audit
log with the console user as actor ("user:<name>"). An action the alert's state does not
allow raises ``ActionRefused`` with a sentence to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Taker
from monitor.alerts.in_hand import IN_HAND
from monitor.alerts.lifecycle import URGENT_KINDS, AlertKind, AlertState, Outcome, can_transition
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.store.models import Alert, Volunteer

MAX_NOTE = 2000


class ActionRefused(Exception):
    """The alert is not in a state that allows the action."""


#: Alerts during which staff may look through a consenting resident's camera: someone may be
#: lying hurt at home (a press, a fall, no answer at a check-in), never a device's battery.
CAMERA_KINDS: frozenset[AlertKind] = URGENT_KINDS | {AlertKind.MISSED_CHECKIN}


def camera_refusal(alert: Alert) -> str | None:
    """Why the resident's camera may not be opened for ``alert`` now, or None when it may."""
    if alert.kind not in CAMERA_KINDS:
        return "the camera opens only for an SOS, a fall or a missed check-in"
    if alert.state not in IN_HAND:
        return f"alert {alert.id} is {alert.state}; the camera opens only while an alert is being handled"
    return None


@dataclass(frozen=True, slots=True)
class ConsoleUserRef:
    """The console user acting: ``actor`` for the log ("user:alice"), ``name`` for people."""

    actor: str
    name: str


class ConsoleActions:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def acknowledge(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        user: ConsoleUserRef,
        now: datetime,
        on_behalf_of: str | None = None,
    ) -> None:
        """Take the alert, for the user themself or recorded for the volunteer (id ``on_behalf_of``)
        who took it by phone."""
        if not can_transition(alert, AlertState.ACKNOWLEDGED):
            raise ActionRefused(f"alert {alert.id} is {alert.state}; only an open alert can be acknowledged")
        if on_behalf_of:
            volunteer = await session.get(Volunteer, on_behalf_of)
            if volunteer is None or not volunteer.active:
                raise ActionRefused(f"there is no volunteer {on_behalf_of!r}")
            taker = Taker(actor=user.actor, by=volunteer.id, name=volunteer.name, volunteer=volunteer)
            via = f"took it (recorded at the console by {user.name})"
        else:
            taker = Taker(actor=user.actor, by=user.actor, name=user.name)
            via = "took it at the console"
        await self.actions.acknowledge(
            session, effects, alert, taker=taker, now=now, via=via, confirmation_key=f"console:{alert.id}:ack"
        )

    async def escalate_now(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, user: ConsoleUserRef, now: datetime
    ) -> None:
        """Ask the next tier now instead of waiting for this tier's timeout."""
        if alert.state != AlertState.OPEN:
            raise ActionRefused(f"alert {alert.id} is {alert.state}; only an open alert can be escalated")
        if alert.unanswered:
            raise ActionRefused(f"alert {alert.id} has already gone through every tier; call someone directly")
        log_entry(
            session,
            alert.id,
            at=now,
            kind="escalate_requested",
            detail=f"{user.name} at the console",
            actor=user.actor,
        )
        effects.changed_alert_ids.add(alert.id)
        await self.actions.escalation.advance(
            session, alert, now, effects, f"{user.name} escalated it from the console"
        )

    async def add_note(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, user: ConsoleUserRef, now: datetime, text: str
    ) -> None:
        note = text.strip()
        if not note:
            raise ActionRefused("the note is empty")
        log_entry(session, alert.id, at=now, kind="note", detail=note[:MAX_NOTE], actor=user.actor)
        effects.changed_alert_ids.add(alert.id)

    async def resolve(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        user: ConsoleUserRef,
        now: datetime,
        outcome: Outcome,
        note: str = "",
    ) -> None:
        """Close the alert with how it ended; an alert nobody took yet is taken by the user first."""
        if alert.state == AlertState.OPEN:
            await self.acknowledge(session, effects, alert, user=user, now=now)
        if not can_transition(alert, AlertState.RESOLVED):
            raise ActionRefused(f"alert {alert.id} is {alert.state}; it cannot be resolved")
        detail = f"{user.name}: {outcome.value}" + (f" - {note.strip()[:MAX_NOTE]}" if note.strip() else "")
        await self.actions.resolve(
            session, effects, alert, actor=user.actor, by=user.actor, now=now, outcome=outcome, detail=detail
        )

    async def record_camera_view(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, user: ConsoleUserRef, now: datetime
    ) -> None:
        """Looking into someone's home is allowed only while an urgent alert is in hand, and recorded, every time."""
        refusal = camera_refusal(alert)
        if refusal is not None:
            raise ActionRefused(refusal)
        log_entry(
            session,
            alert.id,
            at=now,
            kind="camera_viewed",
            detail=f"{user.name} opened the resident's camera",
            actor=user.actor,
        )
        effects.changed_alert_ids.add(alert.id)
