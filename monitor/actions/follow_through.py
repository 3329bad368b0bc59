"""Taken alerts whose follow-through step is due: remind the holder, or act on a deadline.

The escalation timer (``monitor.escalation.timer``) finds the due steps (``follow_up_at``)
and hands each alert, locked, to ``FollowThrough.step`` inside its transaction:

- ``remind_arrival``: the holder is asked whether they are on the way (HERE, or NO to hand it back);
- ``arrival_due``: nobody arrived in time: the alert is open again at the next tier and flagged
  overdue, the holder is told (their HERE still counts) and duty staff are told;
- ``remind_resolve``: whoever is on site is asked to reply DONE when it is over;
- ``resolve_due``: duty staff are told the alert is still not resolved, and it is flagged overdue.

Each step moves the timer on in the same transaction, and each message has its own unique key
(the holder's taking or arrival time in it), so a step that runs again after a crash sends nothing twice.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions
from monitor.alerts.follow_up import FollowUp, stamp
from monitor.alerts.lifecycle import TAKEN
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.escalation.step_reads import StepReads
from monitor.notify import texts
from monitor.oncall.people import Recipient, holder_of
from monitor.store.models import Alert


class FollowThrough:
    def __init__(self, actions: AlertActions) -> None:
        self.actions = actions

    async def step(self, session: AsyncSession, effects: Effects, alert: Alert, reads: StepReads) -> None:
        """Run the due follow-up step of the taken ``alert`` (locked by the caller)."""
        if alert.state not in TAKEN or alert.follow_up is None:
            return
        step, now = FollowUp(alert.follow_up), reads.now
        facts, _ = await reads.facts(alert)
        holder = await holder_of(session, alert.acknowledged_by)
        effects.changed_alert_ids.add(alert.id)
        tell = partial(self.actions.tell_holder, session, effects, alert, holder, now=now, reads=reads)
        if step is FollowUp.REMIND_ARRIVAL:
            await tell(texts.arrival_reminder, occasion=f"{step}:{stamp(alert.taken_at)}")
            log_entry(session, alert.id, at=now, kind="reminded", detail="asked whether they are on the way")
        elif step is FollowUp.REMIND_RESOLVE:
            await tell(texts.resolve_reminder, occasion=f"{step}:{stamp(alert.on_site_at)}")
            log_entry(session, alert.id, at=now, kind="reminded", detail="asked to reply DONE when it is over")
        elif step is FollowUp.ARRIVAL_DUE:
            await self._arrival_overdue(session, effects, alert, holder, reads)
            return  # open again: escalation's timer has it now
        else:
            alert.overdue = True
            log_entry(session, alert.id, at=now, kind="overdue", detail="on site and still not resolved")
            since = alert.on_site_at or now
            holder_name = holder.name if holder is not None else (alert.acknowledged_by or "?")
            style = self.actions.escalation.style
            await self.actions.escalation.tell_duty(
                reads,
                alert,
                effects,
                lambda language: texts.duty_notice(
                    facts, "resolve_overdue", holder=holder_name, since=since, language=language, style=style
                ),
                occasion=f"resolve_overdue:{stamp(since)}",
            )
        await self.actions.follow_up(session, effects, alert, now, after=step, reads=reads)

    async def _arrival_overdue(
        self, session: AsyncSession, effects: Effects, alert: Alert, holder: Recipient | None, reads: StepReads
    ) -> None:
        now, occasion = reads.now, f"{FollowUp.ARRIVAL_DUE}:{stamp(alert.taken_at)}"
        alert.overdue = True
        await self.actions.reopen(
            session,
            effects,
            alert,
            actor="system",
            now=now,
            detail="nobody arrived in time: asked again, flagged overdue",
            duty_reason="arrival_overdue",
            reads=reads,
        )
        await self.actions.tell_holder(
            session, effects, alert, holder, texts.asked_again, occasion=occasion, now=now, reads=reads
        )
        await self.actions.escalation.advance(session, alert, now, effects, "nobody arrived in time", reads)
