"""Turning a batch of MQTT messages into database changes, in one transaction.

For each message: store it raw (always, even when unreadable), find its device, let the
family's adapter parse it, update the device's state, drop events already seen (same
device event id), and hand the rest to the alert handler. Nothing here acknowledges
anything to the broker: the consumer does that after this transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import devices
from devices.actions import resolve_presses
from devices.base import (
    MAX_PAYLOAD_BYTES,
    DeviceEvent,
    DeviceMessage,
    EventType,
    Rejection,
    RejectReason,
)
from monitor.alerts.device_events import DeviceEventHandler
from monitor.device_state import record_sign_of_life
from monitor.effects import Effects
from monitor.feedback import profile_of
from monitor.ingest.routes import Routes
from monitor.metrics import Metrics
from monitor.store.models import Device, SeenDeviceEvent
from monitor.store.models import DeviceMessage as StoredMessage
from monitor.store.statements import insert_unless_exists

log = logging.getLogger("callwatch.ingest")

#: How much of an oversized payload is kept for the record.
KEPT_OF_OVERSIZED = 1024
#: Events that stay news when they come from a retained message (availability is retained).
NEWS_WHEN_RETAINED: frozenset[EventType] = frozenset({EventType.ONLINE, EventType.OFFLINE})


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: bool
    reason: RejectReason | None = None
    duplicate: bool = False


class MessageProcessor:
    def __init__(self, handler: DeviceEventHandler, metrics: Metrics, routes: Routes) -> None:
        self.handler = handler
        self.metrics = metrics
        self.routes = routes

    async def process(
        self, session: AsyncSession, messages: Sequence[DeviceMessage], effects: Effects
    ) -> list[Outcome]:
        return [await self.process_one(session, message, effects) for message in messages]

    async def process_one(self, session: AsyncSession, message: DeviceMessage, effects: Effects) -> Outcome:
        now = message.received_at
        if len(message.payload) > MAX_PAYLOAD_BYTES:
            rejection = Rejection(
                RejectReason.OVERSIZED, f"payload is {len(message.payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
            )
            await self._store(session, message, None, rejection)
            return self._rejected(message, rejection)
        located = await self._locate(session, message)
        if isinstance(located, Rejection):
            await self._store(session, message, None, located)
            return self._rejected(message, located)
        device, adapter_protocol = located
        adapter = devices.registry()[adapter_protocol]
        profile = profile_of(device)
        parsed = adapter.parse(message, profile, device.adapter_state or {})
        if isinstance(parsed, Rejection):
            await self._store(session, message, device.id, parsed)
            return self._rejected(message, parsed)
        events = resolve_presses(parsed.events, profile)
        device.adapter_state = dict(parsed.state)
        record_sign_of_life(device, events, now)
        news = [event for event in events if not message.retained or event.type in NEWS_WHEN_RETAINED]
        stored = await self._store(session, message, device.id, None, detail=_describe(events, news))
        duplicate = False
        for event in news:
            if event.event_id is not None and not await self._first_time(session, device.id, event.event_id, now):
                duplicate = True
                self.metrics.messages_duplicate.inc()
                continue
            await self.handler.apply(session, effects, device, event, now=now, device_message_id=stored.id)
        if duplicate:
            stored.outcome = "duplicate"
        return Outcome(accepted=True, duplicate=duplicate)

    async def _locate(self, session: AsyncSession, message: DeviceMessage) -> tuple[Device, str] | Rejection:
        adapters = self.routes.adapters_for(message.topic)
        if not adapters:
            return Rejection(RejectReason.UNKNOWN_TOPIC, "no device family listens on this topic")
        first_problem: Rejection | None = None
        for adapter in adapters:
            ref = adapter.locate(message)
            if isinstance(ref, Rejection):
                first_problem = first_problem or ref
                continue
            device = await session.scalar(
                select(Device).where(Device.protocol == adapter.protocol, Device.ref == ref).with_for_update()
            )
            if device is not None:
                return device, adapter.protocol
            first_problem = first_problem or Rejection(
                RejectReason.UNKNOWN_DEVICE,
                f"no {adapter.protocol} device {ref!r} in the directory; add it and run callwatch import",
            )
        assert first_problem is not None
        return first_problem

    async def _first_time(self, session: AsyncSession, device_id: str, event_id: str, now: datetime) -> bool:
        inserted = await insert_unless_exists(
            session,
            SeenDeviceEvent,
            {"device_id": device_id, "event_id": event_id, "seen_at": now},
            ["device_id", "event_id"],
        )
        return inserted is not None

    async def _store(
        self,
        session: AsyncSession,
        message: DeviceMessage,
        device_id: str | None,
        rejection: Rejection | None,
        detail: str = "",
    ) -> StoredMessage:
        payload = message.payload
        if len(payload) > MAX_PAYLOAD_BYTES:
            payload = payload[:KEPT_OF_OVERSIZED]
        stored = StoredMessage(
            received_at=message.received_at,
            topic=message.topic[:512],
            payload=payload,
            payload_size=len(message.payload),
            retained=message.retained,
            device_id=device_id,
            outcome="rejected" if rejection else "accepted",
            reject_reason=rejection.reason.value if rejection else None,
            detail=rejection.detail if rejection else detail,
        )
        session.add(stored)
        await session.flush()
        return stored

    async def store_internal_error(self, session: AsyncSession, message: DeviceMessage, error: Exception) -> None:
        """Keep a message whose processing crashed, for the record and for the developers."""
        await self._store(
            session, message, None, Rejection(RejectReason.INVALID, f"internal error: {type(error).__name__}")
        )

    def _rejected(self, message: DeviceMessage, rejection: Rejection) -> Outcome:
        self.metrics.messages_rejected.labels(reason=rejection.reason.value).inc()
        log.warning(
            "rejected message on %s: %s (%s)",
            message.topic[:200],
            rejection.reason.value,
            rejection.detail,
            extra={"topic": message.topic[:200], "reason": rejection.reason.value},
        )
        return Outcome(accepted=False, reason=rejection.reason)


def _describe(events: Sequence[DeviceEvent], news: Sequence[DeviceEvent]) -> str:
    if not events:
        return "no events"
    news_ids = {id(event) for event in news}
    state_only = [event.type.value for event in events if id(event) not in news_ids]
    parts = [event.type.value for event in news]
    if state_only:
        parts.append(f"retained (state only): {', '.join(state_only)}")
    return ", ".join(parts)
