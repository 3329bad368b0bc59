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
from monitor.alerts.follow_up import stamp
from monitor.alerts.in_hand import IN_HAND
from monitor.alerts.lifecycle import TAKEN, URGENT_KINDS, AlertKind, AlertState, Outcome, can_transition
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.notify import texts
from monitor.oncall.people import holder_of
from monitor.store.models import Alert, Volunteer

MAX_NOTE = 2000
MAX_REASON = 200


def _reason(text: str) -> str:
    """A reason given at the console, as the log's detail ends with it."""
    said = " ".join(text.split())[:MAX_REASON]
    return f": {said}" if said else ""


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
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        user: ConsoleUserRef,
        now: datetime,
        reason: str = "",
    ) -> None:
        """Ask the next tier now: an open alert instead of waiting for this tier's timeout; a taken
        one taken back from whoever holds it (they are told, and their HERE still counts)."""
        why = _reason(reason)
        if alert.state in TAKEN:
            await self._take_back(session, effects, alert, user=user, now=now, why=why)
        elif alert.state != AlertState.OPEN:
            raise ActionRefused(f"alert {alert.id} is {alert.state}; only an open or taken alert can be escalated")
        elif alert.unanswered:
            raise ActionRefused(f"alert {alert.id} has already gone through every tier; call someone directly")
        log_entry(
            session,
            alert.id,
            at=now,
            kind="escalate_requested",
            detail=f"{user.name} at the console{why}",
            actor=user.actor,
        )
        effects.changed_alert_ids.add(alert.id)
        await self.actions.escalation.advance(
            session, alert, now, effects, f"{user.name} escalated it from the console"
        )

    async def reassign(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        user: ConsoleUserRef,
        now: datetime,
        volunteer_id: str,
        reason: str = "",
    ) -> None:
        """Give the alert to a named volunteer, who is asked by SMS now; a taken alert is taken back
        from its holder first (they are told)."""
        volunteer = await session.get(Volunteer, volunteer_id)
        if volunteer is None or not volunteer.active:
            raise ActionRefused(f"there is no volunteer {volunteer_id!r}")
        if alert.acknowledged_by == volunteer.id and alert.state in TAKEN:
            raise ActionRefused(f"{volunteer.name} already has alert {alert.id}")
        why = _reason(reason)
        if alert.state in TAKEN:
            await self._take_back(session, effects, alert, user=user, now=now, why=why)
        elif alert.state != AlertState.OPEN:
            raise ActionRefused(f"alert {alert.id} is {alert.state}; only an open or taken alert can be reassigned")
        log_entry(
            session,
            alert.id,
            at=now,
            kind="reassigned",
            detail=f"{user.name} asked {volunteer.name} to take it{why}",
            actor=user.actor,
        )
        await self.actions.escalation.ask_named(
            session, alert, volunteer, now, effects, occasion=f"reassigned:{stamp(now)}"
        )

    async def mark_arrived(
        self,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        *,
        user: ConsoleUserRef,
        now: datetime,
        reason: str = "",
        on_behalf_of: str | None = None,
    ) -> None:
        """Record that whoever took the alert (or, for an open one, the volunteer ``on_behalf_of``)
        is with the resident, as duty staff learnt it (a phone call)."""
        if alert.state == AlertState.OPEN and on_behalf_of:
            await self.acknowledge(session, effects, alert, user=user, now=now, on_behalf_of=on_behalf_of)
        if not can_transition(alert, AlertState.ON_SITE):
            raise ActionRefused(
                f"alert {alert.id} is {alert.state}; only a taken alert (or an open one, with who went) "
                "can be marked arrived"
            )
        holder = await holder_of(session, alert.acknowledged_by)
        by = alert.acknowledged_by or user.actor
        taker = Taker(actor=user.actor, by=by, name=holder.name if holder is not None else user.name)
        via = f"recorded at the console by {user.name}{_reason(reason)}"
        await self.actions.arrive(session, effects, alert, taker=taker, now=now, via=via)

    async def _take_back(
        self, session: AsyncSession, effects: Effects, alert: Alert, *, user: ConsoleUserRef, now: datetime, why: str
    ) -> None:
        """Open a taken alert again from the console and tell whoever held it."""
        holder = await self.actions.reopen(
            session,
            effects,
            alert,
            actor=user.actor,
            now=now,
            detail=f"{user.name} took it back at the console{why}",
            duty_reason=None,
        )
        await self.actions.tell_holder(
            session, effects, alert, holder, texts.asked_again, occasion=f"taken_back:{stamp(now)}", now=now
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
