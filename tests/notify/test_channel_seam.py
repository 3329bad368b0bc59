"""The notification channel seam: a channel added here, in the test, is driven by escalation with no
change anywhere else, and without any SMS code taking part.

The service's own channels come from its config (``monitor.notify.channels``); this one is made
in the test and handed to the engine and the outbox, as the composition root hands them theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.alert_actions import AlertActions, NewAlert
from monitor.alerts.lifecycle import AlertKind
from monitor.core.effects import Effects, commit_then_apply
from monitor.core.metrics import Metrics
from monitor.directory.model import Directory
from monitor.directory.sync import import_directory
from monitor.escalation.engine import Escalation
from monitor.escalation.timer import EscalationTimer
from monitor.notify.channel import Outgoing, SendReceipt
from monitor.notify.log_channel import LogChannel
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from monitor.store.models import AlertEvent, Notification
from tests.notify.kit import outbox_for

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=ZoneInfo("UTC"))
PAGER = "+8613900000001"
LEADER = "+8613900000002"


class Pager(LogChannel):
    """A channel of the test's own: it keeps what it was given (the rest of the interface as the log's)."""

    provider = "test pager"

    def __init__(self) -> None:
        super().__init__("pager")
        self.sent: list[Outgoing] = []

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        self.sent.append(outgoing)
        return SendReceipt(f"page-{len(self.sent)}", "delivered")


class SetClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


DIRECTORY = Directory.model_validate(
    {
        "areas": [{"id": "a-1", "name": "Tianxian 3"}],
        "residents": [{"id": "r-1", "name": "Wang Xiuying", "address": "Block 12", "area": "a-1", "language": "en"}],
        "devices": [{"id": "btn-1", "resident": "r-1"}],
        "volunteers": [
            {"id": "v-1", "name": "Li Ming", "phone": PAGER, "areas": ["a-1"], "language": "en"},
            {"id": "v-2", "name": "Zhao Lei", "phone": LEADER, "areas": ["a-1"], "role": "leader", "language": "en"},
        ],
        "policies": [
            {
                "id": "default",
                "tiers": [
                    {"notify": ["area"], "ack_timeout_s": 60, "channels": ["pager"]},
                    {"notify": ["role:leader"], "ack_timeout_s": 60, "channels": ["pager"]},
                ],
            }
        ],
    }
)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'seam.db'}") as opened:
        await upgrade(opened)
        await import_directory(opened, DIRECTORY)
        yield opened


async def test_escalation_drives_a_channel_of_the_tests_own_and_no_sms(database: Database) -> None:
    clock, metrics, pager = SetClock(NOW), Metrics(), Pager()
    engine = Escalation(
        MessageStyle(ZoneInfo("Asia/Shanghai"), "https://maps/{lat},{lon}"), metrics, channels={"pager"}
    )
    actions = AlertActions(engine, metrics)

    async def after_commit(effects: Effects) -> None:
        outbox.send_claimed(effects.to_send)

    outbox = outbox_for(
        database,
        {"pager": pager},
        clock,
        metrics=metrics,
        instance_id="seam",
        after_commit=after_commit,
        on_unreachable=engine.on_unreachable,
    )
    timer = EscalationTimer(engine, database, clock, metrics, after_commit=after_commit)

    async def press(session: AsyncSession, effects: Effects) -> None:
        new = NewAlert(AlertKind.SOS, "sos from btn-1", resident_id="r-1", device_id="btn-1", actor="device:btn-1")
        await actions.raise_alert(session, effects, new, now=clock.now())

    await commit_then_apply(database, after_commit, press, urgent=True)
    await outbox.drain(within_s=5)
    clock.at = NOW + timedelta(seconds=61)  # nobody took it: the second tier is due
    assert await timer.run_due() == 1
    await outbox.drain(within_s=5)

    assert [(page.to, page.message.template) for page in pager.sent] == [(PAGER, "ask"), (LEADER, "ask")]
    assert all(page.message.params["resident"] == "Wang Xiuying" for page in pager.sent)
    assert "Wang Xiuying" in pager.sent[0].message.text and "Reply ACK" in pager.sent[0].message.text
    async with database.read() as session:
        rows = (await session.scalars(select(Notification).order_by(Notification.id))).all()
        log = (await session.scalars(select(AlertEvent.detail).where(AlertEvent.kind == "notified"))).all()
    assert [(row.channel, row.phone, row.tier, row.status) for row in rows] == [
        ("pager", PAGER, 0, "delivered"),
        ("pager", LEADER, 1, "delivered"),
    ]
    assert all(row.dedupe_key.endswith(":pager") for row in rows)
    assert log[0].startswith("pager to Li Ming")


async def test_a_tier_naming_a_channel_the_service_lacks_is_asked_by_sms_instead(database: Database) -> None:
    clock, metrics = SetClock(NOW), Metrics()
    engine = Escalation(MessageStyle(ZoneInfo("UTC"), "https://maps/{lat},{lon}"), metrics, channels={"sms"})
    actions = AlertActions(engine, metrics)

    async def press(session: AsyncSession, effects: Effects) -> None:
        new = NewAlert(AlertKind.SOS, "sos from btn-1", resident_id="r-1", device_id="btn-1", actor="device:btn-1")
        await actions.raise_alert(session, effects, new, now=clock.now())

    async def nothing_after(effects: Effects) -> None:
        return None

    await commit_then_apply(database, nothing_after, press, urgent=True)
    async with database.read() as session:
        rows = (await session.scalars(select(Notification))).all()
        notes = (await session.scalars(select(AlertEvent.detail).where(AlertEvent.kind == "note"))).all()
    assert [(row.channel, row.phone) for row in rows] == [("sms", PAGER)]
    assert notes == ["pager is not configured on this service: asked by SMS instead"]
