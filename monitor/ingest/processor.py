"""Turning a batch of MQTT messages into database changes, in one transaction.

For each message: find its device, let the family's adapter parse it, update the device's
state, drop events already seen (same device event id), keep the message as received
(always, even when unreadable), and hand the rest to the alert handler. Nothing here
acknowledges anything to the broker: the consumer does that after this transaction commits.

The reads and writes are made per batch, not per message (one query finds every device of
the batch, one statement stores every message, one records every event id), so that a
burst of heartbeats costs a handful of statements rather than several per message; the
parsing and the alert handling still go message by message, in order.

Tuning kept in modules of its own, each with its figure: the device state worked on as plain
copies and written once per batch (``monitor.watch.state_copies``), the batch's residents
brought into the session before the alert handling (``monitor.ingest.resident_prefetch``),
each topic's adapters remembered (``monitor.ingest.topic_memo``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from itertools import groupby
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import (
    MAX_PAYLOAD_BYTES,
    DeviceAdapter,
    DeviceEvent,
    DeviceMessage,
    EventType,
    Rejection,
    RejectReason,
)
from devices.press_meanings import resolve_presses
from monitor.actions.feedback import profile_of
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.ingest.device_events import DeviceEventHandler, concerns_alerts, tells_a_place
from monitor.ingest.resident_prefetch import residents_at_hand
from monitor.ingest.routes import Routes
from monitor.oncall.positions import phone_profile, record_volunteer_fix
from monitor.store.models import Device, SeenDeviceEvent, Volunteer, VolunteerPhone
from monitor.store.models import DeviceMessage as StoredMessage
from monitor.store.statements import insert_many_unless_exist
from monitor.watch.device_state import record_sign_of_life
from monitor.watch.geofence import residents_with_safe_zone
from monitor.watch.rules import SupervisionRules
from monitor.watch.state_copies import DeviceState, write_device_states

log = logging.getLogger("callwatch.ingest")

#: How much of an oversized payload is kept for the record.
KEPT_OF_OVERSIZED = 1024
#: Events that stay news when they come from a retained message (availability is retained).
NEWS_WHEN_RETAINED: frozenset[EventType] = frozenset({EventType.ONLINE, EventType.OFFLINE})

DeviceKey = tuple[str, str]  # (protocol, ref)
#: the raw-message table, written with Core statements (the ORM's per-row work is the cost here)
MESSAGES = cast(Table, StoredMessage.__table__)


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: bool
    reason: RejectReason | None = None
    duplicate: bool = False


@dataclass(slots=True)
class _Read:
    """One message after parsing: what it said and what it is stored as."""

    message: DeviceMessage
    device: Device | None = None
    news: list[DeviceEvent] = field(default_factory=list)
    rejection: Rejection | None = None
    detail: str = ""
    duplicate: bool = False
    fresh: list[DeviceEvent] = field(default_factory=list)
    #: the fresh events the alert handler must see (the others only changed the device's state)
    acting: list[DeviceEvent] = field(default_factory=list)
    #: a volunteer whose phone reported a newer position (kept with their consent)
    located: tuple[Volunteer, VolunteerPhone] | None = None


class MessageProcessor:
    def __init__(self, handler: DeviceEventHandler, metrics: Metrics, routes: Routes, rules: SupervisionRules) -> None:
        self.handler = handler
        self.rules = rules
        self.metrics = metrics
        self.routes = routes

    async def process(
        self, session: AsyncSession, messages: Sequence[DeviceMessage], effects: Effects
    ) -> list[Outcome]:
        candidates = [self._candidates(message) for message in messages]
        found = await self._find(session, candidates)
        states: dict[str, tuple[Device, DeviceState]] = {}
        reads = [
            await self._read(session, message, found, keys, states)
            for message, keys in zip(messages, candidates, strict=True)
        ]
        await write_device_states(session, states.values())
        await self._drop_seen(session, reads)
        zoned = await residents_with_safe_zone(
            session,
            {
                read.device.resident_id
                for read in reads
                if read.device is not None and any(tells_a_place(event) for event in read.fresh)
            },
        )
        for read in reads:
            if read.device is not None:
                has_safe_zone = read.device.resident_id in zoned
                read.acting = [
                    event for event in read.fresh if concerns_alerts(read.device, event, has_safe_zone=has_safe_zone)
                ]
        stored_ids = await self._store(session, reads)
        acting_residents = {read.device.resident_id for read in reads if read.device is not None and read.acting}
        async with residents_at_hand(session, acting_residents):
            for read, stored_id in zip(reads, stored_ids, strict=True):
                for event in read.acting:
                    assert read.device is not None and stored_id is not None
                    await self.handler.apply(
                        session, effects, read.device, event, now=read.message.received_at, device_message_id=stored_id
                    )
        for read in reads:
            if read.located is not None:
                await self.handler.volunteer_located(session, effects, *read.located, now=read.message.received_at)
        return [self._outcome(read) for read in reads]

    # -- finding the devices ---------------------------------------------------------------

    def _candidates(self, message: DeviceMessage) -> list[tuple[DeviceAdapter, str]] | Rejection:
        """The (adapter, device reference) pairs this message may be about, in routing order."""
        if len(message.payload) > MAX_PAYLOAD_BYTES:
            return Rejection(
                RejectReason.OVERSIZED, f"payload is {len(message.payload)} bytes, limit {MAX_PAYLOAD_BYTES}"
            )
        adapters = self.routes.adapters_for(message.topic)
        if not adapters:
            return Rejection(RejectReason.UNKNOWN_TOPIC, "no device family listens on this topic")
        located: list[tuple[DeviceAdapter, str]] = []
        first_problem: Rejection | None = None
        for adapter in adapters:
            ref = adapter.locate(message)
            if isinstance(ref, Rejection):
                first_problem = first_problem or ref
            else:
                located.append((adapter, ref))
        if not located:
            assert first_problem is not None
            return first_problem
        return located

    async def _find(
        self, session: AsyncSession, candidates: Iterable[list[tuple[DeviceAdapter, str]] | Rejection]
    ) -> dict[DeviceKey, Device | VolunteerPhone]:
        """Every device (and volunteer phone) the batch is about, locked, in one query each."""
        keys = sorted(
            {
                (adapter.protocol, ref)
                for located in candidates
                if not isinstance(located, Rejection)
                for adapter, ref in located
            }
        )
        if not keys:
            return {}
        found: dict[DeviceKey, Device | VolunteerPhone] = {
            (device.protocol, device.ref): device for device in await _locked(session, Device, keys)
        }
        missing = [key for key in keys if key not in found]
        if missing:
            phones = await _locked(session, VolunteerPhone, missing)
            found.update({(phone.protocol, phone.ref): phone for phone in phones})
        return found

    # -- reading each message --------------------------------------------------------------

    async def _read(
        self,
        session: AsyncSession,
        message: DeviceMessage,
        found: dict[DeviceKey, Device | VolunteerPhone],
        candidates: list[tuple[DeviceAdapter, str]] | Rejection,
        states: dict[str, tuple[Device, DeviceState]],
    ) -> _Read:
        """Parse one message; what it changes on its device goes into ``states`` (one per device)."""
        if isinstance(candidates, Rejection):
            return self._rejected(message, candidates)
        match = next(
            (
                (adapter, found[adapter.protocol, ref])
                for adapter, ref in candidates
                if (adapter.protocol, ref) in found
            ),
            None,
        )
        if match is None:
            adapter, ref = candidates[0]
            return self._rejected(
                message,
                Rejection(
                    RejectReason.UNKNOWN_DEVICE,
                    f"no {adapter.protocol} device {ref!r} in the directory, or it is retired; "
                    "add it (active) and run callwatch import",
                ),
            )
        adapter, target = match
        if isinstance(target, VolunteerPhone):
            return await self._volunteer_position(session, message, target, adapter)
        profile = profile_of(target)
        if target.id not in states:
            states[target.id] = (target, DeviceState.of(target))
        state = states[target.id][1]
        parsed = adapter.parse(message, profile, state.adapter_state or {})
        if isinstance(parsed, Rejection):
            read = self._rejected(message, parsed)
            read.device = target
            return read
        events = resolve_presses(parsed.events, profile)
        state.adapter_state = dict(parsed.state)
        record_sign_of_life(state, events, message.received_at, retained=message.retained, rules=self.rules)
        news = [event for event in events if not message.retained or event.type in NEWS_WHEN_RETAINED]
        return _Read(message, device=target, news=news, detail=_describe(events, news))

    async def _volunteer_position(
        self, session: AsyncSession, message: DeviceMessage, phone: VolunteerPhone, adapter: DeviceAdapter
    ) -> _Read:
        """A volunteer's own phone: its position is kept (with consent); it never touches an alert."""
        parsed = adapter.parse(message, phone_profile(phone), phone.adapter_state or {})
        if isinstance(parsed, Rejection):
            return self._rejected(message, parsed)
        phone.adapter_state = dict(parsed.state)
        volunteer = await session.get(Volunteer, phone.volunteer_id)
        known = phone.last_fix_at
        detail = record_volunteer_fix(phone, volunteer, parsed.events, message.received_at)
        moved = volunteer is not None and phone.last_fix_at is not None and phone.last_fix_at != known
        return _Read(message, detail=detail, located=(volunteer, phone) if moved and volunteer is not None else None)

    async def _drop_seen(self, session: AsyncSession, reads: Sequence[_Read]) -> None:
        """Keep as fresh only the events whose id this device has not sent before.

        The ids are inserted first and the database says which were new, so two monitors
        handed the same redelivered event never both act on it.
        """
        first_sightings: dict[tuple[str, str], datetime] = {}
        for read in reads:
            if read.device is None:
                continue
            for event in read.news:
                if event.event_id is not None:
                    first_sightings.setdefault((read.device.id, event.event_id), read.message.received_at)
        new: set[tuple[str, str]] = set()
        if first_sightings:
            inserted = await insert_many_unless_exist(
                session,
                SeenDeviceEvent,
                [
                    {"device_id": device_id, "event_id": event_id, "seen_at": seen_at}
                    for (device_id, event_id), seen_at in first_sightings.items()
                ],
                ["device_id", "event_id"],
                (SeenDeviceEvent.device_id, SeenDeviceEvent.event_id),
            )
            new = {(str(device_id), str(event_id)) for device_id, event_id in inserted}
        for read in reads:
            if read.device is None:
                continue
            for event in read.news:
                key = (read.device.id, event.event_id or "")
                if event.event_id is None:
                    read.fresh.append(event)
                elif key in new:
                    new.discard(key)  # a second copy later in the same batch is a duplicate
                    read.fresh.append(event)
            read.duplicate = len(read.fresh) < len(read.news)
            if read.duplicate:
                self.metrics.messages_duplicate.inc(len(read.news) - len(read.fresh))

    async def _store(self, session: AsyncSession, reads: Sequence[_Read]) -> list[int | None]:
        """Keep every message as received (cut at the size limit), in arrival order; the row ids
        of those an alert may refer to (None for the others: not asking for ids saves most of
        the cost). One statement per run of neighbours alike, so ids follow arrival."""
        table = MESSAGES
        ids: list[int | None] = [None] * len(reads)
        for acting, run in groupby(enumerate(reads), key=lambda numbered: bool(numbered[1].acting)):
            indexes = [index for index, _ in run]
            rows = [_stored_row(reads[index]) for index in indexes]
            if not acting:
                await session.execute(insert(table), rows)
                continue
            returned = await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
            for index, row_id in zip(indexes, returned.scalars().all(), strict=True):
                ids[index] = int(row_id)
        return ids

    async def store_internal_error(self, session: AsyncSession, message: DeviceMessage, error: Exception) -> None:
        """Keep a message whose processing crashed, for the record and for the developers."""
        read = _Read(message, rejection=Rejection(RejectReason.INVALID, f"internal error: {type(error).__name__}"))
        await session.execute(insert(MESSAGES), [_stored_row(read)])

    def _rejected(self, message: DeviceMessage, rejection: Rejection) -> _Read:
        self.metrics.messages_rejected.labels(reason=rejection.reason.value).inc()
        log.warning(
            "rejected message on %s: %s (%s)",
            message.topic[:200],
            rejection.reason.value,
            rejection.detail,
            extra={"topic": message.topic[:200], "reason": rejection.reason.value},
        )
        return _Read(message, rejection=rejection)

    @staticmethod
    def _outcome(read: _Read) -> Outcome:
        if read.rejection is not None:
            return Outcome(accepted=False, reason=read.rejection.reason)
        return Outcome(accepted=True, duplicate=read.duplicate)


async def _locked(
    session: AsyncSession, holder: type[Device] | type[VolunteerPhone], keys: Iterable[DeviceKey]
) -> Sequence[Device | VolunteerPhone]:
    """The devices (or volunteer phones) with these (protocol, ref) keys, locked."""
    refs_by_protocol: dict[str, list[str]] = {}
    for protocol, ref in keys:
        refs_by_protocol.setdefault(protocol, []).append(ref)
    protocols = tuple(sorted(refs_by_protocol))
    statement = _lookup(holder, protocols)
    refs = {f"refs_{index}": refs_by_protocol[protocol] for index, protocol in enumerate(protocols)}
    return (await session.scalars(statement, refs)).all()


@cache
def _lookup(holder: type[Device] | type[VolunteerPhone], protocols: tuple[str, ...]) -> Select[Any]:
    """``(protocol, ref) IN keys``, written per protocol: SQLite answers a row-value IN by
    scanning every device (8 ms a batch at 10,000 devices), but this through the unique index.
    Ordered by id: every writer locks rows in the same order, so two monitors never deadlock.
    A retired device is not found: its messages are refused as from an unknown device."""
    retired_left_out = (Device.active.is_(True),) if holder is Device else ()
    return (
        select(holder)
        .where(
            *retired_left_out,
            or_(
                *(
                    and_(holder.protocol == protocol, holder.ref.in_(bindparam(f"refs_{index}", expanding=True)))
                    for index, protocol in enumerate(protocols)
                )
            ),
        )
        .order_by(holder.id)
        .with_for_update()
    )


def _stored_row(read: _Read) -> dict[str, Any]:
    message = read.message
    payload = message.payload if len(message.payload) <= MAX_PAYLOAD_BYTES else message.payload[:KEPT_OF_OVERSIZED]
    outcome = "rejected" if read.rejection else "duplicate" if read.duplicate else "accepted"
    return {
        "received_at": message.received_at,
        "topic": message.topic[:512],
        "payload": payload,
        "payload_size": len(message.payload),
        "retained": message.retained,
        "device_id": read.device.id if read.device is not None else None,
        "outcome": outcome,
        "reject_reason": read.rejection.reason.value if read.rejection else None,
        "detail": read.rejection.detail if read.rejection else read.detail,
    }


def _describe(events: Sequence[DeviceEvent], news: Sequence[DeviceEvent]) -> str:
    if not events:
        return "no events"
    parts = [event.type.value for event in news]
    if len(news) < len(events):  # some were retained state only (``news`` is a subset of ``events``)
        news_ids = {id(event) for event in news}
        state_only = [event.type.value for event in events if id(event) not in news_ids]
        parts.append(f"retained (state only): {', '.join(state_only)}")
    return ", ".join(parts)
