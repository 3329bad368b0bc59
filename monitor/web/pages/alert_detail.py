"""Everything the alert page shows: the alert, the resident's card, and the whole timeline.

The timeline merges the alert's audit log, the device's messages around the alert, every
SMS about it with its delivery status, and every reply, in the order they happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.call_answers import is_call_key
from monitor.notify.requests import SMS, channel_noun
from monitor.oncall.family import contact_json, family_of
from monitor.store.models import (
    Alert,
    AlertEvent,
    Area,
    Device,
    DeviceMessage,
    InboundSms,
    Notification,
    Resident,
    ResidentCard,
    Volunteer,
    VolunteerArea,
)
from monitor.users.scope import Scope, alert_in_scope
from monitor.web.pages.board_data import BoardRow, display_names, rows_for

#: Device messages shown from a little before the alert was raised.
DEVICE_LEAD = timedelta(minutes=5)
DEVICE_MESSAGES_LIMIT = 200
PAYLOAD_SHOWN = 400


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    #: event | device | sms (any notification) | reply | call (a key pressed on a call)
    source: str
    kind: str
    who: str
    text: str
    status: str | None = None
    body: str | None = None
    #: the channel of the notification it is about: "sms", "voice"
    channel: str = SMS
    #: the provider that carried it ("aliyun", "modem"...), once it went out
    provider: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "source": self.source,
            "kind": self.kind,
            "who": self.who,
            "text": self.text,
            "status": self.status,
            "body": self.body,
            "channel": self.channel,
            "provider": self.provider,
        }


@dataclass(frozen=True, slots=True)
class Card:
    resident: Resident | None
    area: Area | None
    devices: list[Device]
    contacts: list[dict[str, Any]]
    camera_url: str | None


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: Alert
    row: BoardRow
    card: Card
    timeline: list[Entry]
    #: volunteers who may be recorded as having taken it: the area's team first
    volunteers: list[Volunteer] = field(default_factory=list)
    position: tuple[float, float, float | None, datetime | None] | None = None


async def load_alert_detail(session: AsyncSession, alert_id: int, now: datetime, scope: Scope) -> AlertDetail | None:
    """Everything about the alert; None when there is none ``scope`` sees."""
    alert = await alert_in_scope(session, scope, alert_id)
    if alert is None:
        return None
    [row] = await rows_for(session, [alert])
    card = await load_card(session, alert.resident_id)
    device = await session.get(Device, alert.device_id) if alert.device_id else None
    position = None
    if alert.lat is not None and alert.lon is not None:
        position = (alert.lat, alert.lon, alert.accuracy_m, alert.position_at)
    elif device is not None and device.last_lat is not None and device.last_lon is not None:
        position = (device.last_lat, device.last_lon, device.last_accuracy_m, device.last_fix_at)
    return AlertDetail(
        alert=alert,
        row=row,
        card=card,
        timeline=await load_timeline(session, alert, now),
        volunteers=await _candidates(session, alert.area_id, scope),
        position=position,
    )


async def load_card(session: AsyncSession, resident_id: str | None) -> Card:
    resident = await session.get(Resident, resident_id) if resident_id else None
    area = await session.get(Area, resident.area_id) if resident else None
    devices = (
        list((await session.scalars(select(Device).where(Device.resident_id == resident.id).order_by(Device.id))).all())
        if resident
        else []
    )
    extra = await session.get(ResidentCard, resident.id) if resident else None
    return Card(
        resident=resident,
        area=area,
        devices=devices,
        contacts=[contact_json(contact) for contact in await family_of(session, resident.id)] if resident else [],
        camera_url=extra.camera_url if extra and extra.camera_consent and extra.camera_url else None,
    )


async def consented_camera(session: AsyncSession, alert_id: int) -> str | None:
    """The camera link of the alert's resident, only where they consented to views."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.resident_id is None:
        return None
    card = await session.get(ResidentCard, alert.resident_id)
    return card.camera_url if card is not None and card.camera_consent and card.camera_url else None


async def _candidates(session: AsyncSession, area_id: str | None, scope: Scope) -> list[Volunteer]:
    volunteers = list(
        (
            await session.scalars(
                select(Volunteer).where(Volunteer.active.is_(True), scope.volunteers()).order_by(Volunteer.name)
            )
        ).all()
    )
    local = set()
    if area_id:
        local = set(
            (await session.scalars(select(VolunteerArea.volunteer_id).where(VolunteerArea.area_id == area_id))).all()
        )
    return sorted(volunteers, key=lambda volunteer: (volunteer.id not in local, volunteer.name))


async def load_timeline(session: AsyncSession, alert: Alert, now: datetime) -> list[Entry]:
    events = (
        await session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))
    ).all()
    notifications = {
        notification.id: notification
        for notification in (
            await session.scalars(
                select(Notification).where(Notification.alert_id == alert.id).order_by(Notification.id)
            )
        ).all()
    }
    replies = (
        await session.scalars(select(InboundSms).where(InboundSms.alert_id == alert.id).order_by(InboundSms.id))
    ).all()
    names = await display_names(
        session,
        {event.actor for event in events}
        | {n.volunteer_id for n in notifications.values() if n.volunteer_id}
        | {reply.volunteer_id for reply in replies if reply.volunteer_id},
    )
    entries: list[Entry] = []
    reported = set()
    for event in events:
        notification = notifications.get(event.notification_id) if event.notification_id else None
        if notification is not None:
            reported.add(notification.id)
        entries.append(
            Entry(
                at=event.at,
                source="event",
                kind=event.kind,
                who=names.get(event.actor, event.actor),
                text=event.detail,
                status=notification.status if notification else None,
                body=notification.body if notification else None,
                channel=notification.channel if notification else SMS,
                provider=_carried_by(notification),
            )
        )
    for notification in notifications.values():
        if notification.id in reported:
            continue
        who = (
            names.get(notification.volunteer_id, notification.phone)
            if notification.volunteer_id
            else notification.phone
        )
        entries.append(
            Entry(
                at=notification.created_at,
                source="sms",
                kind=notification.purpose,
                who=who,
                text=f"{channel_noun(notification.channel)} to {who} ({notification.phone})",
                status=notification.status,
                body=notification.body,
                channel=notification.channel,
                provider=_carried_by(notification),
            )
        )
    for reply in replies:
        who = names.get(reply.volunteer_id, reply.from_phone) if reply.volunteer_id else reply.from_phone
        on_call = is_call_key(reply.provider_id)
        how = "key pressed on a call by" if on_call else "SMS from"
        entries.append(
            Entry(
                at=reply.received_at,
                source="call" if on_call else "reply",
                kind="reply",
                who=who,
                text=f"{how} {who} ({reply.from_phone}): {reply.outcome}",
                body=reply.body,
            )
        )
    entries += await _device_entries(session, alert, events, now)
    order = {"device": 0, "event": 1, "sms": 2, "reply": 3, "call": 3}
    return sorted(entries, key=lambda entry: (entry.at, order[entry.source]))


async def _device_entries(
    session: AsyncSession, alert: Alert, events: Sequence[AlertEvent], now: datetime
) -> list[Entry]:
    """The messages that raised or touched the alert, and the device's others around it."""
    linked = {event.device_message_id for event in events if event.device_message_id}
    wanted: list[ColumnElement[bool]] = [DeviceMessage.id.in_(linked)]
    if alert.device_id is not None:
        until = (alert.resolved_at or alert.cancelled_at or now) + timedelta(minutes=1)
        wanted.append(
            and_(
                DeviceMessage.device_id == alert.device_id,
                DeviceMessage.received_at >= alert.raised_at - DEVICE_LEAD,
                DeviceMessage.received_at <= until,
            )
        )
    messages = (
        await session.scalars(
            select(DeviceMessage).where(or_(*wanted)).order_by(DeviceMessage.id).limit(DEVICE_MESSAGES_LIMIT)
        )
    ).all()
    return [
        Entry(
            at=message.received_at,
            source="device",
            kind=message.outcome,
            who=f"device:{message.device_id}" if message.device_id else message.topic,
            text=f"{message.topic}: {message.detail}",
            body=bytes(message.payload[:PAYLOAD_SHOWN]).decode("utf-8", errors="replace"),
        )
        for message in messages
    ]


def _carried_by(notification: Notification | None) -> str | None:
    """The provider that took a notification; None before one did."""
    return notification.provider if notification is not None and notification.sent_at is not None else None
