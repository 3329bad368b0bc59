"""Running a console action on one alert: lock it, act through ``ConsoleActions``, commit, then
carry out the effects. Shared by the console's forms and the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from monitor.alerts.console_actions import ActionRefused, ConsoleActions, ConsoleUserRef
from monitor.alerts.lifecycle import Outcome
from monitor.alerts.views import alert_summary
from monitor.effects import Effects
from monitor.store.models import Alert, Volunteer
from monitor.users.identity import Principal
from monitor.web.services import context_of, services_of

Action = Callable[[ConsoleActions, AsyncSession, Effects, Alert, ConsoleUserRef, datetime], Awaitable[None]]


class AlertMissing(Exception):
    pass


async def act(request: Request, principal: Principal, alert_id: int, action: Action) -> dict[str, object]:
    """Do ``action`` to the alert; its summary afterwards. ``AlertMissing`` or ``ActionRefused`` otherwise."""
    context = context_of(request)
    actions = services_of(request).actions
    user = ConsoleUserRef(actor=principal.actor, name=principal.display_name)

    async def work(session: AsyncSession) -> tuple[dict[str, object], Effects]:
        effects = Effects()
        alert = await session.get(Alert, alert_id, with_for_update=True)
        if alert is None:
            raise AlertMissing
        await action(actions, session, effects, alert, user, context.clock.now())
        return alert_summary(alert), effects

    summary, effects = await context.database.transact(work)
    await context.after_commit(effects)
    return summary


def acknowledge(volunteer_id: str | None) -> Action:
    async def run(
        actions: ConsoleActions,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        user: ConsoleUserRef,
        now: datetime,
    ) -> None:
        volunteer = None
        if volunteer_id:
            volunteer = await session.get(Volunteer, volunteer_id)
            if volunteer is None or not volunteer.active:
                raise ActionRefused(f"there is no volunteer {volunteer_id!r}")
        await actions.acknowledge(session, effects, alert, user=user, now=now, on_behalf_of=volunteer)

    return run


async def escalate(
    actions: ConsoleActions, session: AsyncSession, effects: Effects, alert: Alert, user: ConsoleUserRef, now: datetime
) -> None:
    await actions.escalate_now(session, effects, alert, user=user, now=now)


def note(text: str) -> Action:
    async def run(
        actions: ConsoleActions,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        user: ConsoleUserRef,
        now: datetime,
    ) -> None:
        await actions.add_note(session, effects, alert, user=user, now=now, text=text)

    return run


def resolve(outcome: Outcome, text: str) -> Action:
    async def run(
        actions: ConsoleActions,
        session: AsyncSession,
        effects: Effects,
        alert: Alert,
        user: ConsoleUserRef,
        now: datetime,
    ) -> None:
        await actions.resolve(session, effects, alert, user=user, now=now, outcome=outcome, note=text)

    return run


async def camera_viewed(
    actions: ConsoleActions, session: AsyncSession, effects: Effects, alert: Alert, user: ConsoleUserRef, now: datetime
) -> None:
    await actions.record_camera_view(session, effects, alert, user=user, now=now)


def parse_outcome(value: object) -> Outcome:
    try:
        return Outcome(str(value))
    except ValueError:
        raise ActionRefused(f"outcome must be one of {', '.join(outcome.value for outcome in Outcome)}") from None
