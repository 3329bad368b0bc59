"""What a committed transaction asks the rest of the monitor to do next, and the one way to commit.

Database work collects ``Effects`` while it runs; they are carried out only after the
commit, so nothing outside the database (an MQTT feedback message, a notification handed
to a provider, a console update) ever reflects a change that was rolled back. Work that
changes alerts runs through ``commit_then_apply``, which keeps that order in one place: a
caller cannot forget the second half and leave an urgent notification claimed but unsent
until its lease runs out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DeviceFeedback:
    topic: str
    payload: dict[str, str | int | None]


@dataclass(frozen=True, slots=True)
class ClaimedNotification:
    """A notification row claimed for sending (committed as ``claimed`` before the channel is called)."""

    id: int
    #: the channel that carries it ("sms"), and the person's address on it (a phone number)
    channel: str
    to: str
    #: the message, as free text and as a template with its parameters (``monitor.notify.texts``)
    text: str
    template: str
    params: Mapping[str, str]
    attempts: int
    claimed_at: datetime
    #: lower goes to the provider first (``monitor.notify.requests.PRIORITY``)
    priority: int
    #: among rows of one priority, lower first: asks about an SOS or a fall before others
    rank: int = 0
    #: the text without its responder link, for a provider that carries none (None: it has none)
    without_link: str | None = None
    #: the provider its attempt goes to (None: the channel's first; ``monitor.notify.outbox``)
    provider: str | None = None


@dataclass(slots=True)
class Effects:
    feedback: list[DeviceFeedback] = field(default_factory=list)
    #: notifications this transaction queued, already claimed: send them right after the commit
    to_send: list[ClaimedNotification] = field(default_factory=list)
    #: notifications this transaction queued as pending: the outbox should look at once
    notifications_waiting: bool = False
    #: the earliest escalation timer this transaction set (the escalation loop may need to wake)
    next_step_at: datetime | None = None
    changed_alert_ids: set[int] = field(default_factory=set)

    def merge(self, other: Effects) -> None:
        self.feedback.extend(other.feedback)
        self.to_send.extend(other.to_send)
        self.notifications_waiting |= other.notifications_waiting
        self.timer_set(other.next_step_at)
        self.changed_alert_ids |= other.changed_alert_ids

    def timer_set(self, at: datetime | None) -> None:
        if at is not None and (self.next_step_at is None or at < self.next_step_at):
            self.next_step_at = at


#: Carries out a transaction's effects once it has committed.
AfterCommit = Callable[[Effects], Awaitable[None]]
#: Work inside one transaction, noting what should follow its commit.
EffectfulWork = Callable[[AsyncSession, Effects], Awaitable[T]]


class Transactions(Protocol):
    """What ``commit_then_apply`` needs of the database (``monitor.store.database.Database``)."""

    async def transact(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        urgent: bool = False,
        bookkeeping: bool = False,
        bulk: bool = False,
        attempts: int = 5,
    ) -> T: ...


async def commit_then_apply(
    database: Transactions,
    after_commit: AfterCommit,
    work: EffectfulWork[T],
    *,
    urgent: bool = False,
    bookkeeping: bool = False,
) -> T:
    """Run ``work`` in a write transaction, commit, then carry out the effects it noted; its result.

    A transaction the database aborts to break a deadlock runs again from the start with
    fresh effects, so only the attempt that committed is carried out.
    """

    async def attempt(session: AsyncSession) -> tuple[T, Effects]:
        effects = Effects()
        return await work(session, effects), effects

    result, effects = await database.transact(attempt, urgent=urgent, bookkeeping=bookkeeping)
    await after_commit(effects)
    return result
