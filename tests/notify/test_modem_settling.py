"""A monitor killed between claiming an SMS and recording the modem's acceptance: the outbox of the
next one settles the row from where gammu-smsd's spool has its file (the real gammu-smsd on Gammu's
dummy phone), so what was handed over is never sent again and what was not is sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from monitor.config.settings import ModemSettings
from monitor.core.clock import SystemClock
from monitor.core.effects import Effects
from monitor.notify.channel import Outgoing
from monitor.notify.requests import SMS, NotificationRequest, NotificationStatus, Purpose, queue_many
from monitor.notify.sms.modem import ModemSms
from monitor.notify.texts import Message
from monitor.store.database import Database
from monitor.store.models import Notification
from simulator.harness.dummy_modem import DummyModem
from tests.notify.kit import outbox_for
from tests.support.waiting import until

HANDED_OVER, NEVER_HANDED = "+8613900000001", "+8613900000002"
ASK = "紧急求助：王秀英（幸福路12栋3单元201）按了求助按钮，19:02。您能去吗？回复“收到 7”接手，“不行 7”婉拒。"


async def test_a_claimed_sms_is_settled_from_the_spool_not_sent_twice(database_url: str, tmp_path: Path) -> None:
    clock = SystemClock()
    long_ago = clock.now() - timedelta(hours=1)  # the dead monitor's lease has long run out
    with DummyModem(tmp_path / "modem") as modem:
        async with Database(database_url) as database, ModemSms(ModemSettings(smsdrc=str(modem.smsdrc))) as channel:
            async with database.write() as session:
                requests = [
                    NotificationRequest(phone, Message("ask", ASK), Purpose.ALERT)
                    for phone in (HANDED_OVER, NEVER_HANDED)
                ]
                handed_id, never_id = await queue_many(session, Effects(), requests, datetime.now(UTC))
                await session.execute(
                    update(Notification)
                    .where(Notification.id.in_([handed_id, never_id]))
                    .values(status=NotificationStatus.CLAIMED, claimed_at=long_ago, claimed_by="dead", attempts=1)
                )
            # The dead monitor had handed one of them to the modem; it died before recording that.
            await channel.send(Outgoing(HANDED_OVER, Message("ask", ASK), handed_id))

            outbox = outbox_for(database, {SMS: channel}, clock)
            await outbox.recover_stale()
            await outbox.send_due()
            await until(lambda: len(modem.sent()) == 2 and not modem.waiting(), what="both sent by gammu-smsd")
            async with database.read() as session:
                handed = await session.get(Notification, handed_id)
                never = await session.get(Notification, never_id)
    assert sorted(sms.to for sms in modem.sent()) == [HANDED_OVER, NEVER_HANDED]
    assert all(sms.text == ASK for sms in modem.sent())
    assert handed is not None and never is not None
    assert (handed.provider_id, handed.status, handed.attempts) == (f"modem:{handed_id}", "queued", 1)
    assert (never.provider_id, never.status, never.attempts) == (f"modem:{never_id}", "queued", 2)
