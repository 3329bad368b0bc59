"""Telling a resident's family about an alert, when the policy says to inform them.

Contacts who are only informed get a few SMS per alert and nothing else: one when the alert
is raised, one when someone takes it and one when they arrive (``inform_progress``), one
when it ends (resolved, with how; or cancelled by the resident). Everything after the start
goes exactly to those told of the start, so someone added to the contacts in between is
not told of an end without a beginning.

A resident whose directory entry asks for it (``sms_updates``) is told on her own phone when
someone takes her alert and when they set off, with their first name and the time they gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.follow_up import stamp
from monitor.alerts.log import log_entry
from monitor.core.effects import Effects
from monitor.notify.facts import load_facts
from monitor.notify.requests import NotificationRequest, Purpose, queue_many
from monitor.notify.texts import MessageStyle, family_ended, family_raised, progress
from monitor.oncall.family import FAMILY_TARGET, ContactValues, family_of, values_of
from monitor.store.models import Alert, Notification, Resident


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
    contacts = await _told_of_start(session, alert)
    if not contacts:
        return
    facts, _ = await load_facts(session, alert)
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


#: Who hears of each step of help on its way: the family told of the start, the resident herself.
FAMILY_STAGES = {"taken": "family:taken", "arrived": "family:arrived"}
RESIDENT_STAGES = {"taken": "resident:taken", "on_the_way": "resident:on_the_way"}


async def inform_progress(
    session: AsyncSession, effects: Effects, alert: Alert, stage: str, *, helper: str, eta: str, now: datetime
) -> None:
    """Help is on its way (``stage``: taken, on_the_way, arrived): tell those told of the start
    (taken, arrived) and the resident if she asked for it (taken, on_the_way), once per taking.
    ``helper``: the first name of whoever took it; ``eta``: the local time they gave, or ""."""
    facts, _ = await load_facts(session, alert)
    occasion = f"{stage}:{stamp(alert.taken_at)}"
    if stage in FAMILY_STAGES:
        contacts = await _told_of_start(session, alert)
        requests = [
            NotificationRequest(
                contact.phone,
                progress(facts, FAMILY_STAGES[stage], helper=helper, eta=eta, language=contact.language),
                Purpose.INFORM,
                alert_id=alert.id,
                key=_key(alert.id, occasion, contact.phone),
            )
            for contact in contacts
        ]
        queued = await queue_many(session, effects, requests, now)
        _log(session, alert, contacts, queued, f"told {helper} {'took it' if stage == 'taken' else 'is there'}", now)
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    if stage not in RESIDENT_STAGES or resident is None or not resident.sms_updates or not resident.phone:
        return
    message = progress(facts, RESIDENT_STAGES[stage], helper=helper, eta=eta, language=resident.language)
    request = NotificationRequest(
        resident.phone, message, Purpose.INFORM, alert_id=alert.id, key=_key(alert.id, occasion, resident.phone)
    )
    [queued_id] = await queue_many(session, effects, [request], now)
    if queued_id is not None:
        log_entry(
            session,
            alert.id,
            at=now,
            kind="informed",
            detail=f"SMS to the resident ({resident.phone}): {helper} {'took it' if stage == 'taken' else 'set off'}",
            notification_id=queued_id,
        )


async def _told_of_start(session: AsyncSession, alert: Alert) -> list[ContactValues]:
    """The family contacts told that ``alert`` was raised, in that order (a contact removed since is
    still told the rest, in the resident's language)."""
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
        return []
    _, resident_language = await load_facts(session, alert)
    by_phone = {contact.phone: values_of(contact) for contact in await family_of(session, alert.resident_id or "")}
    return [by_phone.get(phone) or ContactValues(phone, phone, resident_language) for phone in told]


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
