"""Running a console action on one alert: lock it, act through ``ConsoleActions``, commit, then
carry out the effects. Shared by the console's forms and the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from monitor.actions.console import ActionRefused, ConsoleActions, ConsoleUserRef
from monitor.alerts.lifecycle import Outcome
from monitor.alerts.views import alert_summary
from monitor.core.effects import Effects, commit_then_apply
from monitor.store.models import Alert
from monitor.users.identity import Principal
from monitor.users.scope import Scope, alert_in_scope, sees_volunteer
from monitor.web.services import context_of, services_of


@dataclass(frozen=True)
class OnAlert:
    """What a console action works with: the locked alert, inside its transaction."""

    actions: ConsoleActions
    session: AsyncSession
    effects: Effects
    alert: Alert
    user: ConsoleUserRef
    now: datetime
    #: the asker's: a volunteer it does not see is refused as if there were none
    scope: Scope

    async def volunteer_named(self, volunteer_id: str | None) -> None:
        if volunteer_id and not await sees_volunteer(self.session, self.scope, volunteer_id):
            raise ActionRefused(f"there is no volunteer {volunteer_id!r}")


Action = Callable[[OnAlert], Awaitable[None]]


class AlertMissing(Exception):
    pass


async def act(request: Request, principal: Principal, alert_id: int, action: Action) -> dict[str, object]:
    """Do ``action`` to the alert; its summary afterwards. ``AlertMissing`` or ``ActionRefused`` otherwise."""
    context = context_of(request)
    actions = services_of(request).actions
    user = ConsoleUserRef(actor=principal.actor, name=principal.display_name)

    async def work(session: AsyncSession, effects: Effects) -> dict[str, object]:
        alert = await alert_in_scope(session, principal.scope, alert_id, for_update=True)
        if alert is None:
            raise AlertMissing
        await action(OnAlert(actions, session, effects, alert, user, context.clock.now(), principal.scope))
        return alert_summary(alert)

    return await commit_then_apply(context.database, context.after_commit, work)


def acknowledge(volunteer_id: str | None) -> Action:
    async def run(on: OnAlert) -> None:
        await on.volunteer_named(volunteer_id)
        await on.actions.acknowledge(
            on.session, on.effects, on.alert, user=on.user, now=on.now, on_behalf_of=volunteer_id
        )

    return run


def escalate(reason: str = "") -> Action:
    async def run(on: OnAlert) -> None:
        await on.actions.escalate_now(on.session, on.effects, on.alert, user=on.user, now=on.now, reason=reason)

    return run


def reassign(volunteer_id: str, reason: str) -> Action:
    async def run(on: OnAlert) -> None:
        await on.volunteer_named(volunteer_id)
        await on.actions.reassign(
            on.session, on.effects, on.alert, user=on.user, now=on.now, volunteer_id=volunteer_id, reason=reason
        )

    return run


def mark_arrived(reason: str, volunteer_id: str | None = None) -> Action:
    async def run(on: OnAlert) -> None:
        await on.volunteer_named(volunteer_id)
        await on.actions.mark_arrived(
            on.session, on.effects, on.alert, user=on.user, now=on.now, reason=reason, on_behalf_of=volunteer_id
        )

    return run


def note(text: str) -> Action:
    async def run(on: OnAlert) -> None:
        await on.actions.add_note(on.session, on.effects, on.alert, user=on.user, now=on.now, text=text)

    return run


def resolve(outcome: Outcome, text: str) -> Action:
    async def run(on: OnAlert) -> None:
        await on.actions.resolve(on.session, on.effects, on.alert, user=on.user, now=on.now, outcome=outcome, note=text)

    return run


def parse_outcome(value: object) -> Outcome:
    try:
        return Outcome(str(value))
    except ValueError:
        raise ActionRefused(f"outcome must be one of {', '.join(outcome.value for outcome in Outcome)}") from None
