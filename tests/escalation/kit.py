"""What the in-process escalation, reply and ingest tests share: a directory, a clock the test
sets, and the monitor's alert machinery (escalation engine and timer, the actions door, the
reply handler, the ingest processor) built on a real database, with no broker, web server or
SMS provider. Work goes through ``commit_then_apply`` as in the monitor; what each committed
transaction asked for next is kept in ``World.applied``.

The people are the on-call tests' (tests/oncall/kit.py), whose phone numbers the tests import
from there. Times are Asia/Shanghai. Wednesday 2026-05-06 is the day: at 19:00 the area team
of a-1 (Li Ming, Zhang Wei) is on call; at 03:00 neither is, and the leaders (no schedule)
always are.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Fix, NewAlert
from monitor.actions.follow_through import FollowThrough
from monitor.actions.replies import InboundReply, ReplyHandler
from monitor.actions.responses import ReplyOutcome
from monitor.alerts.lifecycle import AlertKind
from monitor.core.effects import Effects, commit_then_apply
from monitor.core.metrics import Metrics
from monitor.directory.model import Directory
from monitor.directory.sync import import_directory
from monitor.escalation.engine import Escalation
from monitor.escalation.timer import EscalationTimer
from monitor.ingest.device_events import DeviceEventHandler
from monitor.ingest.processor import MessageProcessor
from monitor.ingest.routes import load_routes
from monitor.notify.requests import SMS
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database
from monitor.store.models import Alert, AlertEvent, InboundSms, Notification
from monitor.watch.rules import SupervisionRules
from simulator.directory_entries import directory_file, entry
from simulator.harness import neighbourhood as people
from tests.oncall.kit import (
    CENTRE,
    FAR_FRIEND,
    HEXI,
    LI_MING_EVENINGS,
    NEAR_NEIGHBOUR,
    RITAS_PHONE,
    ROAMING_RITA,
    SHANGHAI,
    SON,
    TWO_TIERS,
    WEDNESDAY_1900,
    ZHANG_WEI_WEEKDAYS,
    ZHOU_MIN_WEEKENDS,
)
from tests.watch.kit import log_entries

T = TypeVar("T")

STYLE = MessageStyle(SHANGHAI, "https://maps.example/?lat={lat}&lon={lon}")
SUN_LI = "+8613900000004"  # v-4, area a-2: no schedule, always on call
GAO_YAN = "+8613900000008"  # lead-2, a leader serving no area: always on call
STRANGER = "+8613600000666"  # nobody in the directory
NOWHERE = "+8613900000014"  # n-4, in the "nearest" area a-n: no position known
HOME_OF_R_N = CENTRE  # resident r-n at home, the nearest-first volunteers around her

#: The on-call tests' people (tests/oncall/kit.py: the deployment's neighbourhood with
#: schedules), a third resident in a-1, and the "nearest" area a-n.
PEOPLE = directory_file(
    entry("areas", **people.TIANXIAN),
    entry("areas", **HEXI),
    entry("areas", id="a-n", name="Riverside"),
    entry("residents", **people.WANG_XIUYING, family=[SON]),
    entry("residents", id="r-3", name="Zhao Min", address="15栋1单元502", area="a-1", language="en"),
    entry("residents", **{**people.MARGARET_CHEN, "area": "a-2"}),
    entry(
        "residents",
        id="r-n",
        name="Ada Byrne",
        address="3 Quay Street",
        area="a-n",
        language="en",
        home={"lat": HOME_OF_R_N[0], "lon": HOME_OF_R_N[1]},
    ),
    entry("devices", id="btn-1", resident=people.RESIDENT_ZH, heartbeat_s=0),
    entry("devices", id="btn-3", resident="r-3", heartbeat_s=0),
    entry(
        "devices",
        id="hall-button",
        resident="r-3",
        protocol="zigbee2mqtt",
        topic="zigbee2mqtt/hall_button",
        heartbeat_s=0,
    ),
    entry("devices", id="btn-2", resident=people.RESIDENT_EN, heartbeat_s=0),
    entry("devices", id="btn-n", resident="r-n", heartbeat_s=0),
    RITAS_PHONE,
    entry("volunteers", **LI_MING_EVENINGS),
    entry("volunteers", **ZHANG_WEI_WEEKDAYS),
    entry("volunteers", **ZHOU_MIN_WEEKENDS),
    entry("volunteers", id="v-4", name="Sun Li", phone=SUN_LI, areas=["a-2"]),
    entry("volunteers", **people.CHEN_JING),
    entry("volunteers", id="lead-2", name="Gao Yan", phone=GAO_YAN, role="leader"),
    entry("volunteers", **people.DUTY_DESK),
    *(
        entry("volunteers", **volunteer, areas=["a-n"], language="en")
        for volunteer in (NEAR_NEIGHBOUR, FAR_FRIEND, ROAMING_RITA)
    ),
    entry("volunteers", id="n-4", name="Nowhere Ned", phone=NOWHERE, areas=["a-n"], language="en"),
)

#: The area team one at a time, nearest first (30 s each, then 90 s for the last), then the leaders.
NEAREST_FIRST = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area"], order = "nearest", per_person_timeout_s = 30, ack_timeout_s = 90 },
  { notify = ["role:leader"], ack_timeout_s = 60 },
]
"""


def directory(policies: str = TWO_TIERS) -> Directory:
    """The people above with ``policies`` (TOML), validated entry by entry."""
    return Directory.model_validate(tomllib.loads(PEOPLE + policies))


class FixedClock:
    """Time stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


class World:
    """The monitor's alert machinery on one database, driven in-process by the test."""

    def __init__(self, database: Database, clock: FixedClock, channels: Collection[str]) -> None:
        self.database = database
        self.clock = clock
        self.metrics = Metrics()
        self.escalation = Escalation(STYLE, self.metrics, channels=channels)
        self.actions = AlertActions(self.escalation, self.metrics)
        self.replies = ReplyHandler(self.actions)
        self.timer = EscalationTimer(
            self.escalation,
            database,
            clock,
            self.metrics,
            after_commit=self.after_commit,
            follow_up=FollowThrough(self.actions).step,
        )
        self.rules = SupervisionRules()
        #: the effects of every committed transaction, in order
        self.applied: list[Effects] = []
        self._replies = 0

    async def after_commit(self, effects: Effects) -> None:
        self.applied.append(effects)

    async def write(self, work: Callable[[AsyncSession, Effects], Awaitable[T]]) -> T:
        """``work`` in one write transaction, committed, then its effects kept (as the monitor does)."""
        return await commit_then_apply(self.database, self.after_commit, work, urgent=True)

    async def processor(self) -> MessageProcessor:
        """The ingest processor as the monitor builds it, routing the directory's devices."""
        routes, _ = await load_routes(self.database)
        return MessageProcessor(DeviceEventHandler(self.actions), self.metrics, routes, self.rules)

    # -- acting ------------------------------------------------------------------------------

    async def raise_sos(
        self, resident_id: str = "r-1", device_id: str = "btn-1", *, position: Fix | None = None
    ) -> int:
        """A press raised through the actions door now; the new alert's id."""

        async def work(session: AsyncSession, effects: Effects) -> int:
            new = NewAlert(
                AlertKind.SOS,
                f"sos from {device_id}",
                resident_id=resident_id,
                device_id=device_id,
                position=position,
                actor=f"device:{device_id}",
            )
            alert = await self.actions.raise_alert(session, effects, new, now=self.clock.now(), answer_device=True)
            return alert.id

        return await self.write(work)

    async def after(self, **delta: float) -> int:
        """Move the clock on and run the escalation timer once; how many alerts it stepped."""
        self.clock.advance(**delta)
        return await self.timer.run_due()

    async def reply(self, phone: str, body: str, provider_id: str | None = None) -> ReplyOutcome:
        """An SMS reply from ``phone``, handled now; each gets its own provider id unless given one."""
        self._replies += 1
        sms = InboundReply(provider_id or f"SMreply{self._replies:026d}", phone, body)

        async def work(session: AsyncSession, effects: Effects) -> ReplyOutcome:
            return await self.replies.handle(session, effects, sms, self.clock.now())

        return await self.write(work)

    # -- reading what happened -------------------------------------------------------------------

    async def alert(self, alert_id: int) -> Alert:
        async with self.database.read() as session:
            found = await session.get(Alert, alert_id)
        assert found is not None, alert_id
        return found

    async def notifications(
        self, *, alert_id: int | None = None, purpose: str | None = None, phone: str | None = None
    ) -> list[Notification]:
        query = select(Notification).order_by(Notification.id)
        if alert_id is not None:
            query = query.where(Notification.alert_id == alert_id)
        if purpose is not None:
            query = query.where(Notification.purpose == purpose)
        if phone is not None:
            query = query.where(Notification.phone == phone)
        async with self.database.read() as session:
            return list((await session.scalars(query)).all())

    async def asks(self, alert_id: int) -> list[Notification]:
        """The requests to take ``alert_id`` (purpose "alert"), in the order they were queued."""
        return await self.notifications(alert_id=alert_id, purpose="alert")

    async def log(self, alert_id: int, *kinds: str) -> list[AlertEvent]:
        return await log_entries(self.database, alert_id, *kinds)

    async def inbound(self) -> list[InboundSms]:
        async with self.database.read() as session:
            return list((await session.scalars(select(InboundSms).order_by(InboundSms.id))).all())


@asynccontextmanager
async def world(
    database_url: str,
    *,
    policies: str = TWO_TIERS,
    at: datetime = WEDNESDAY_1900,
    channels: Collection[str] = (SMS,),
) -> AsyncIterator[World]:
    """The database (migrated: the ``database_url`` fixture's) holding the directory (with ``policies``),
    and the machinery on it."""
    async with Database(database_url) as database:
        await import_directory(database, directory(policies))
        yield World(database, FixedClock(at), channels)


def phones(rows: Iterable[Notification]) -> list[str]:
    return [row.phone for row in rows]
