"""What the in-process escalation, reply and ingest tests share: a directory, a clock the test
sets, and the monitor's alert machinery (escalation engine and timer, the actions door, the
reply handler, the ingest processor) built on a real database, with no broker, web server or
SMS provider. Work goes through ``commit_then_apply`` as in the monitor; what each committed
transaction asked for next is kept in ``World.applied``.

Times are Asia/Shanghai. Wednesday 2026-05-06 is the day: at 19:00 the area team of a-1 (Li
Ming, Zhang Wei) is on call; at 03:00 neither is, and the leaders (no schedule) always are.
"""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, Fix, NewAlert
from monitor.actions.replies import InboundReply, ReplyHandler, ReplyOutcome
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

T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")
STYLE = MessageStyle(SHANGHAI, "https://maps.example/?lat={lat}&lon={lon}")
WEDNESDAY_0300 = datetime(2026, 5, 6, 3, 0, tzinfo=SHANGHAI)
WEDNESDAY_1900 = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)

LI_MING = "+8613900000001"  # v-1, area a-1, zh: on call daily 18:00-23:00
ZHANG_WEI = "+8613900000002"  # v-2, area a-1, en: on call weekdays 17:00-22:00
ZHOU_MIN = "+8613900000003"  # v-3, area a-2: weekends only
SUN_LI = "+8613900000004"  # v-4, area a-2: no schedule, always on call
CHEN_JING = "+8613900000009"  # lead-1, leader of a-1: always on call
GAO_YAN = "+8613900000008"  # lead-2, a leader serving no area: always on call
DUTY = "+8613900000100"  # duty-1, staff
WANG_LEI = "+8613700000001"  # r-1's son, a family contact
STRANGER = "+8613600000666"  # nobody in the directory

# The "nearest" area a-n: resident r-n at home (30.2741, 120.1551), volunteers around her.
NEAR = "+8613900000011"  # n-1: home about 300 m away
FAR = "+8613900000012"  # n-2: home about 1.2 km away
ROAMING = "+8613900000013"  # n-3: home 5 km away; shares her phone's position
NOWHERE = "+8613900000014"  # n-4: no position known
HOME_OF_R_N = (30.2741, 120.1551)

PEOPLE = f"""
[[areas]]
id = "a-1"
name = "Tianxian 3"

[[areas]]
id = "a-2"
name = "Hexi 1"

[[areas]]
id = "a-n"
name = "Riverside"

[[residents]]
id = "r-1"
name = "王秀英"
address = "12栋3单元201"
area = "a-1"
phone = "+8613800000001"
language = "zh"
family = [{{ name = "Wang Lei", phone = "{WANG_LEI}", relationship = "son" }}]

[[residents]]
id = "r-3"
name = "Zhao Min"
address = "15栋1单元502"
area = "a-1"
language = "en"

[[residents]]
id = "r-2"
name = "Margaret Chen"
address = "8 Riverside Lane, Flat 4"
area = "a-2"
language = "en"

[[residents]]
id = "r-n"
name = "Ada Byrne"
address = "3 Quay Street"
area = "a-n"
language = "en"
home = {{ lat = {HOME_OF_R_N[0]}, lon = {HOME_OF_R_N[1]} }}

[[devices]]
id = "btn-1"
resident = "r-1"
heartbeat_s = 0

[[devices]]
id = "btn-3"
resident = "r-3"
heartbeat_s = 0

[[devices]]
id = "hall-button"
resident = "r-3"
protocol = "zigbee2mqtt"
topic = "zigbee2mqtt/hall_button"
heartbeat_s = 0

[[devices]]
id = "btn-2"
resident = "r-2"
heartbeat_s = 0

[[devices]]
id = "btn-n"
resident = "r-n"
heartbeat_s = 0

[[devices]]
id = "phone-n-3"
volunteer = "n-3"
protocol = "owntracks"
topic = "owntracks/n3/phone"

[[volunteers]]
id = "v-1"
name = "Li Ming"
phone = "{LI_MING}"
areas = ["a-1"]
language = "zh"
on_call = [{{ days = ["daily"], from = "18:00", to = "23:00" }}]

[[volunteers]]
id = "v-2"
name = "Zhang Wei"
phone = "{ZHANG_WEI}"
areas = ["a-1"]
language = "en"
on_call = [{{ days = ["mon-fri"], from = "17:00", to = "22:00" }}]

[[volunteers]]
id = "v-3"
name = "Zhou Min"
phone = "{ZHOU_MIN}"
areas = ["a-2"]
on_call = [{{ days = ["weekends"] }}]

[[volunteers]]
id = "v-4"
name = "Sun Li"
phone = "{SUN_LI}"
areas = ["a-2"]

[[volunteers]]
id = "lead-1"
name = "Chen Jing"
phone = "{CHEN_JING}"
areas = ["a-1"]
role = "leader"

[[volunteers]]
id = "lead-2"
name = "Gao Yan"
phone = "{GAO_YAN}"
role = "leader"

[[volunteers]]
id = "duty-1"
name = "Duty Desk"
phone = "{DUTY}"
role = "staff"

[[volunteers]]
id = "n-1"
name = "Near Neighbour"
phone = "{NEAR}"
areas = ["a-n"]
language = "en"
home = {{ lat = 30.2768, lon = 120.1551 }}

[[volunteers]]
id = "n-2"
name = "Far Friend"
phone = "{FAR}"
areas = ["a-n"]
language = "en"
home = {{ lat = 30.2849, lon = 120.1551 }}

[[volunteers]]
id = "n-3"
name = "Roaming Rita"
phone = "{ROAMING}"
areas = ["a-n"]
language = "en"
home = {{ lat = 30.3191, lon = 120.1551 }}
share_location = true

[[volunteers]]
id = "n-4"
name = "Nowhere Ned"
phone = "{NOWHERE}"
areas = ["a-n"]
language = "en"
"""

#: The usual policy: the area team for a minute, then the area's leader for a minute.
TWO_TIERS = """
[[policies]]
id = "default"
tiers = [
  { notify = ["area"], ack_timeout_s = 60 },
  { notify = ["role:leader"], ack_timeout_s = 60 },
]
"""

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
        self.timer = EscalationTimer(self.escalation, database, clock, self.metrics, after_commit=self.after_commit)
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
        query = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        if kinds:
            query = query.where(AlertEvent.kind.in_(kinds))
        async with self.database.read() as session:
            return list((await session.scalars(query)).all())

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
