"""SMS texts are personal data kept ``[retention] sms_texts_days``: after that the texts sent (and
their template parameters) and the replies received are forgotten, their rows kept for the record;
a message still being sent keeps its text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from monitor.config.settings import RetentionSettings
from monitor.store.models import InboundSms, Notification
from monitor.watch.retention import Retention
from tests.escalation.kit import FixedClock, World, world
from tests.oncall.kit import LI_MING


async def texts(w: World) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """Each notification's (status, text, has parameters) and each reply's (outcome, text), in order."""
    async with w.database.read() as session:
        sent = (await session.scalars(select(Notification).order_by(Notification.id))).all()
        received = (await session.scalars(select(InboundSms).order_by(InboundSms.id))).all()
    return [(row.status, row.body, row.params is not None) for row in sent], [
        (row.outcome, row.body) for row in received
    ]


async def test_sms_texts_and_replies_are_forgotten_after_their_keeping_time(database_url: str) -> None:
    async with world(database_url) as w:
        await w.raise_sos()
        await w.reply(LI_MING, "ACK")
        async with w.database.write() as session:  # everything handed to the provider, one ask still waiting
            await session.execute(update(Notification).values(status="sent"))
            first = await session.scalar(select(Notification.id).order_by(Notification.id))
            await session.execute(update(Notification).where(Notification.id == first).values(status="pending"))
        before = await texts(w)
        settings = RetentionSettings(sms_texts_days=90)
        too_soon = await Retention(w.database, FixedClock(w.clock.now() + timedelta(days=89)), settings).purge()
        purged = await Retention(w.database, FixedClock(w.clock.now() + timedelta(days=91)), settings).purge()
        again = await Retention(w.database, FixedClock(w.clock.now() + timedelta(days=92)), settings).purge()
        after = await texts(w)

    sent_before, received_before = before
    assert len(sent_before) >= 3 and all(text and params for _, text, params in sent_before)
    assert received_before == [("acknowledged", "ACK")]
    assert (too_soon.sms_texts, too_soon.inbound_texts) == (0, 0)
    assert (purged.sms_texts, purged.inbound_texts) == (len(sent_before) - 1, 1)
    assert (again.sms_texts, again.inbound_texts) == (0, 0)
    sent_after, received_after = after
    assert sent_after[0] == sent_before[0]  # still waiting to go: its text is needed
    assert sent_after[1:] == [(status, "", False) for status, _, _ in sent_before[1:]]
    assert received_after == [("acknowledged", "")]
