"""The ingest processor on a real database, fed hand-built MQTT messages (no broker): what a
batch changes, what it stores, and what it leaves alone. Payloads follow the native protocol
(docs/native-protocol.md) and the zigbee2mqtt samples in tests/fixtures/devices/."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import MAX_PAYLOAD_BYTES, DeviceMessage, RejectReason
from monitor.core.effects import Effects
from monitor.ingest.processor import KEPT_OF_OVERSIZED, MessageProcessor, Outcome
from monitor.store.models import Alert, Device, Notification, SeenDeviceEvent
from monitor.store.models import DeviceMessage as StoredMessage
from tests.escalation.kit import World, phones, world
from tests.oncall.kit import LI_MING, ZHANG_WEI


def _native(device_id: str, event: dict[str, object] | str, w: World, *, topic: str = "event") -> DeviceMessage:
    payload = event if isinstance(event, str) else json.dumps(event)
    return DeviceMessage(f"callwatch/{device_id}/{topic}", payload.encode(), False, w.clock.now())


async def _process(w: World, processor: MessageProcessor, messages: Sequence[DeviceMessage]) -> list[Outcome]:
    """One batch in one transaction, committed, then its effects applied (kept in ``w.applied``)."""

    async def work(session: AsyncSession, effects: Effects) -> list[Outcome]:
        return await processor.process(session, messages, effects)

    return await w.write(work)


async def _stored(w: World) -> list[StoredMessage]:
    async with w.database.read() as session:
        return list((await session.scalars(select(StoredMessage).order_by(StoredMessage.id))).all())


async def _alerts(w: World) -> list[Alert]:
    async with w.database.read() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


async def _device(w: World, device_id: str) -> Device:
    async with w.database.read() as session:
        device = await session.get(Device, device_id)
    assert device is not None
    return device


class _Abandoned(Exception):
    """The batch's transaction ends without a commit (the monitor died, the database went away)."""


async def test_an_sos_raises_its_alert_and_asks_tier_one_in_the_batchs_own_transaction(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        press = _native("btn-1", {"type": "sos", "id": "p-1", "battery": 84}, w)

        with pytest.raises(_Abandoned):
            async with w.database.write() as session:
                await processor.process(session, [press], Effects())
                inside = (await session.scalars(select(Alert.id))).all()
                asked_inside = (await session.scalars(select(Notification.phone))).all()
                raise _Abandoned
        left_behind = (await _alerts(w), await w.notifications(), await _stored(w))

        # the broker delivers the unacknowledged batch again: it is news, not a duplicate
        outcomes = await _process(w, processor, [press])
        [alert] = await _alerts(w)
        asks = await w.asks(alert.id)
        [stored] = await _stored(w)
        [raised] = await w.log(alert.id, "raised")
        effects = w.applied[-1]

    assert len(inside) == 1 and sorted(asked_inside) == [LI_MING, ZHANG_WEI]
    assert left_behind == ([], [], [])
    assert outcomes == [Outcome(accepted=True)]
    assert (alert.kind, alert.state, alert.resident_id, alert.device_id, alert.event_id) == (
        "sos",
        "open",
        "r-1",
        "btn-1",
        "p-1",
    )
    assert sorted(phones(asks)) == [LI_MING, ZHANG_WEI]
    assert (stored.outcome, stored.device_id, stored.detail) == ("accepted", "btn-1", "sos")
    assert raised.device_message_id == stored.id
    assert sorted(sent.to for sent in effects.to_send) == [LI_MING, ZHANG_WEI]
    assert [(item.topic, item.payload) for item in effects.feedback] == [
        ("callwatch/btn-1/feedback", {"event_id": "p-1", "alert_id": alert.id, "state": "received", "by": None})
    ]


async def test_a_redelivered_event_is_a_duplicate_that_changes_nothing(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        press = _native("btn-1", {"type": "sos", "id": "p-1"}, w)
        await _process(w, processor, [press])
        rows_before = len(await w.notifications())
        w.clock.advance(seconds=5)
        again = await _process(w, processor, [_native("btn-1", {"type": "sos", "id": "p-1"}, w)])
        effects = w.applied[-1]
        alerts = await _alerts(w)
        rows_after = len(await w.notifications())
        stored = await _stored(w)

    assert again == [Outcome(accepted=True, duplicate=True)]
    assert len(alerts) == 1
    assert rows_after == rows_before
    assert [row.outcome for row in stored] == ["accepted", "duplicate"]
    assert (effects.feedback, effects.to_send, effects.changed_alert_ids) == ([], [], set())


async def test_two_copies_of_one_event_in_one_batch_raise_one_alert(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        press = _native("btn-1", {"type": "sos", "id": "p-7"}, w)
        outcomes = await _process(w, processor, [press, press])
        alerts = await _alerts(w)

    assert outcomes == [Outcome(accepted=True), Outcome(accepted=True, duplicate=True)]
    assert len(alerts) == 1


async def test_unreadable_messages_are_stored_as_rejected_with_their_reason_and_raise_nothing(
    database_url: str,
) -> None:
    oversized = json.dumps({"type": "sos", "id": "p-big", "pad": "x" * MAX_PAYLOAD_BYTES})
    async with world(database_url) as w:
        processor = await w.processor()
        outcomes = await _process(
            w,
            processor,
            [
                _native("btn-404", {"type": "sos", "id": "p-1"}, w),  # not in the directory
                _native("btn-1", '{"type": "sos", "id": "p-2"', w),  # JSON cut short
                _native("btn-1", oversized, w),
                _native("btn-1", {"type": "press", "id": "p-3"}, w),  # not a native event type
                DeviceMessage("somewhere/else", b"{}", False, w.clock.now()),
            ],
        )
        stored = await _stored(w)
        alerts = await _alerts(w)
        async with w.database.read() as session:
            seen = await session.scalar(select(func.count()).select_from(SeenDeviceEvent))
        effects = w.applied[-1]

    reasons = [
        RejectReason.UNKNOWN_DEVICE,
        RejectReason.MALFORMED,
        RejectReason.OVERSIZED,
        RejectReason.UNSUPPORTED,
        RejectReason.UNKNOWN_TOPIC,
    ]
    assert outcomes == [Outcome(accepted=False, reason=reason) for reason in reasons]
    assert [(row.outcome, row.reject_reason) for row in stored] == [("rejected", reason.value) for reason in reasons]
    assert all(row.detail for row in stored)  # each says what was wrong
    big = stored[2]
    assert (len(big.payload), big.payload_size) == (KEPT_OF_OVERSIZED, len(oversized))
    assert alerts == []
    assert seen == 0
    assert (effects.feedback, effects.to_send) == ([], [])


async def test_one_bad_message_in_a_batch_does_not_stop_the_good_ones(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        outcomes = await _process(
            w,
            processor,
            [
                _native("btn-2", {"type": "heartbeat", "id": "h-1", "battery": 64}, w),
                _native("btn-1", "not json at all", w),
                _native("btn-1", {"type": "sos", "id": "p-1"}, w),
            ],
        )
        alerts = await _alerts(w)
        btn_2 = await _device(w, "btn-2")
        stored = await _stored(w)

    assert [outcome.accepted for outcome in outcomes] == [True, False, True]
    assert [(alert.device_id, alert.state) for alert in alerts] == [("btn-1", "open")]
    assert (btn_2.battery, btn_2.last_seen_at) == (64, w.clock.now())
    assert [row.outcome for row in stored] == ["accepted", "rejected", "accepted"]


async def test_a_heartbeat_only_updates_the_devices_state(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        before = await _device(w, "btn-1")
        outcomes = await _process(
            w, processor, [_native("btn-1", {"type": "heartbeat", "id": "h-1", "battery": 77}, w)]
        )
        after = await _device(w, "btn-1")
        effects = w.applied[-1]
        alerts = await _alerts(w)
        rows = await w.notifications()
        [stored] = await _stored(w)

    assert outcomes == [Outcome(accepted=True)]
    assert (before.last_seen_at, before.battery) == (None, None)
    assert (after.last_seen_at, after.battery, after.online) == (w.clock.now(), 77, True)
    assert (alerts, rows) == ([], [])
    assert (effects.feedback, effects.to_send, effects.changed_alert_ids) == ([], [], set())
    assert (stored.outcome, stored.detail) == ("accepted", "heartbeat")


async def test_a_retained_press_is_state_only_and_raises_nothing(database_url: str) -> None:
    """A retained event is the broker replaying an old message at a new subscription: never a
    new press, nor a sign of life; only a position it carries (with its time) is kept."""
    async with world(database_url) as w:
        processor = await w.processor()
        fixed_at = w.clock.now() - timedelta(hours=1)
        old = {"type": "sos", "id": "p-old", "lat": 30.27, "lon": 120.15, "ts": fixed_at.isoformat()}
        replayed = DeviceMessage("callwatch/btn-1/event", json.dumps(old).encode(), True, w.clock.now())
        outcomes = await _process(w, processor, [replayed])
        alerts = await _alerts(w)
        btn_1 = await _device(w, "btn-1")
        [stored] = await _stored(w)

    assert outcomes == [Outcome(accepted=True)]
    assert alerts == []
    assert (btn_1.last_lat, btn_1.last_lon, btn_1.last_fix_at) == (30.27, 120.15, fixed_at)
    assert btn_1.last_seen_at is None
    assert (stored.outcome, stored.detail) == ("accepted", "retained (state only): sos")


async def test_a_press_in_another_familys_words_raises_the_alert_of_its_resident(database_url: str) -> None:
    payload = b'{"action":"single","battery":100,"linkquality":167,"power_outage_count":13,"voltage":3245}'
    async with world(database_url) as w:
        processor = await w.processor()
        outcomes = await _process(
            w, processor, [DeviceMessage("zigbee2mqtt/hall_button", payload, False, w.clock.now())]
        )
        [alert] = await _alerts(w)
        hall = await _device(w, "hall-button")

    assert outcomes == [Outcome(accepted=True)]
    assert (alert.kind, alert.resident_id, alert.device_id, alert.area_id) == ("sos", "r-3", "hall-button", "a-1")
    assert hall.battery == 100


async def test_pressing_again_while_the_alert_is_open_adds_to_it(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        await _process(w, processor, [_native("btn-1", {"type": "sos", "id": "p-1"}, w)])
        w.clock.advance(seconds=20)
        await _process(w, processor, [_native("btn-1", {"type": "sos", "id": "p-2"}, w)])
        [alert] = await _alerts(w)
        pressed_again = await w.log(alert.id, "pressed_again")
        asks = await w.asks(alert.id)
        effects = w.applied[-1]

    assert len(pressed_again) == 1
    assert len(asks) == 2  # nobody is asked twice
    assert [(item.payload["event_id"], item.payload["state"]) for item in effects.feedback] == [("p-2", "received")]


async def test_a_cancel_before_anyone_took_the_alert_cancels_it_and_tells_those_asked(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        await _process(w, processor, [_native("btn-1", {"type": "sos", "id": "p-1"}, w)])
        cancelled_at = w.clock.advance(seconds=20)
        outcomes = await _process(w, processor, [_native("btn-1", {"type": "cancel", "id": "p-2"}, w)])
        [alert] = await _alerts(w)
        told = await w.notifications(alert_id=alert.id, purpose="cancelled")
        effects = w.applied[-1]
        stepped_later = await w.after(minutes=5)

    assert outcomes == [Outcome(accepted=True)]
    assert (alert.state, alert.cancelled_at, alert.next_escalation_at) == ("cancelled", cancelled_at, None)
    assert sorted((row.phone, row.template) for row in told) == [(LI_MING, "cancelled"), (ZHANG_WEI, "cancelled")]
    assert [item.payload["state"] for item in effects.feedback] == ["cancelled"]
    assert stepped_later == 0


async def test_a_cancel_after_someone_took_the_alert_keeps_it_and_tells_the_taker(database_url: str) -> None:
    async with world(database_url) as w:
        processor = await w.processor()
        await _process(w, processor, [_native("btn-1", {"type": "sos", "id": "p-1"}, w)])
        await w.reply(LI_MING, "ACK")
        await _process(w, processor, [_native("btn-1", {"type": "cancel", "id": "p-2"}, w)])
        [alert] = await _alerts(w)
        to_taker = await w.notifications(alert_id=alert.id, purpose="cancelled")

    assert (alert.state, alert.acknowledged_by) == ("acknowledged", "v-1")
    assert [(row.phone, row.template) for row in to_taker] == [(LI_MING, "cancel_after_ack")]
