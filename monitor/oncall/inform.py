"""Telling a resident's family about an alert, when the policy says to inform them.

Contacts who are only informed get two SMS per alert and nothing else: one when the alert
is raised, one when it ends (resolved, with how; or cancelled by the resident). The end
goes exactly to those told of the start, so someone added to the contacts in between is
not told of an end without a beginning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.notify.facts import load_facts
from monitor.notify.requests import NotificationRequest, Purpose, queue_many
from monitor.notify.texts import MessageStyle, family_ended, family_raised
from monitor.oncall.family import FAMILY_TARGET, ContactValues, family_of, values_of
from monitor.store.models import Alert, Notification


def _key(alert_id: int, moment: str, phone: str) -> str:
    return f"{alert_id}:{Purpose.INFORM.value}:{moment}:{phone}"


async def inform_raised(
    session: AsyncSession,
    effects: Effects,
    alert: Alert,
    inform: Sequence[str],
    style: MessageStyle,
    now: datetime,
) -> None:
    """Tell the family contacts, if ``inform`` (the policy's list) names them, that ``alert`` was raised."""
    if FAMILY_TARGET not in inform or alert.resident_id is None:
        return
    contacts = [values_of(contact) for contact in await family_of(session, alert.resident_id)]
    if not contacts:
        return
    facts, _ = await load_facts(session, alert)
    requests = [
        NotificationRequest(
            contact.phone,
            family_raised(facts, contact.language, style),
            Purpose.INFORM,
            alert_id=alert.id,
            key=_key(alert.id, "raised", contact.phone),
        )
        for contact in contacts
    ]
    queued = await queue_many(session, effects, requests, now)
    _log(session, alert, contacts, queued, "told it was raised", now)


async def inform_ended(session: AsyncSession, effects: Effects, alert: Alert, ending: str, now: datetime) -> None:
    """Tell those told of ``alert``'s start that it ended (``ending``: cancelled, or the outcome)."""
    told = (
        await session.scalars(
            select(Notification.phone)
            .where(
                Notification.alert_id == alert.id,
                Notification.purpose == Purpose.INFORM.value,
                Notification.dedupe_key.like(f"%:{Purpose.INFORM.value}:raised:%"),
            )
            .order_by(Notification.id)
        )
    ).all()
    if not told:
        return
    facts, resident_language = await load_facts(session, alert)
    by_phone = {contact.phone: values_of(contact) for contact in await family_of(session, alert.resident_id or "")}
    # a contact removed since the start is still told of the end, in the resident's language
    contacts = [by_phone.get(phone) or ContactValues(phone, phone, resident_language) for phone in told]
    requests = [
        NotificationRequest(
            contact.phone,
            family_ended(facts, ending, contact.language),
            Purpose.INFORM,
            alert_id=alert.id,
            key=_key(alert.id, "ended", contact.phone),
        )
        for contact in contacts
    ]
    queued = await queue_many(session, effects, requests, now)
    _log(session, alert, contacts, queued, f"told it ended ({ending.replace('_', ' ')})", now)


def _log(
    session: AsyncSession,
    alert: Alert,
    contacts: Sequence[ContactValues],
    queued: Sequence[int | None],
    what: str,
    now: datetime,
) -> None:
    for contact, notification_id in zip(contacts, queued, strict=True):
        if notification_id is None:
            continue
        relation = f"{contact.relationship}, " if contact.relationship else ""
        log_entry(
            session,
            alert.id,
            at=now,
            kind="informed",
            detail=f"SMS to {contact.name} ({relation}{contact.phone}), family, {what}",
            notification_id=notification_id,
        )
