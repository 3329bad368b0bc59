"""Erasing a person (``callwatch erase resident|volunteer ID``): everything personal about them
is removed or overwritten across every table, while the alerts stay as anonymous records, so
the reports' counts and times do not change (docs/data-map.md).

What identifies them (a resident's name, address, phone, health notes and her family's names
and phones; a volunteer's name and phone) is overwritten wherever a text column holds it: the
directory rows, SMS texts and replies, alert logs, the console's audit. The texts of SMS that
named them lose their template parameters too. Positions go: a resident's home and safe zone,
her devices' last fixes and raw messages, her alerts' positions; a volunteer's home and their
phone's fixes and raw messages. Her family contacts and care card (camera, key safe) are
deleted. The person stays as a retired row (``active = false``) under the same id, so alerts
still point somewhere; someone with an alert not yet ended is not erased.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, Text, delete, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.errors import UserError
from monitor.directory.retire import NOT_ENDED
from monitor.store import models

#: What an erased name, address, note or family member is overwritten with
ERASED = "[erased]"
#: Shorter texts are not searched for: they would overwrite unrelated words
SHORTEST_NEEDLE = 2


@dataclass(frozen=True)
class Erasure:
    """Who was erased, and how many text cells were overwritten (for the audit log: no personal data)."""

    kind: str
    person_id: str
    cells: int


async def erase_person(session: AsyncSession, kind: str, person_id: str) -> Erasure:
    """Erase resident or volunteer ``person_id`` in this transaction; a UserError if there is no
    such person or an alert of theirs is not ended."""
    if kind == "resident":
        texts = await _erase_resident(session, person_id)
    elif kind == "volunteer":
        texts = await _erase_volunteer(session, person_id)
    else:
        raise UserError(f"erase: {kind!r} is not resident or volunteer")
    cells = await _overwrite_everywhere(session, texts)
    return Erasure(kind, person_id, cells)


async def _erase_resident(session: AsyncSession, resident_id: str) -> dict[str, str]:
    """Her own rows erased; the texts that identify her, with what each becomes."""
    resident = await session.get(models.Resident, resident_id)
    if resident is None:
        raise UserError(f'erase: there is no resident "{resident_id}"; check the id (callwatch alerts lists them).')
    open_alert = await session.scalar(
        select(models.Alert.id)
        .where(models.Alert.resident_id == resident_id, models.Alert.state.in_(NOT_ENDED))
        .limit(1)
    )
    if open_alert is not None:
        raise UserError(f'erase: resident "{resident_id}" has alert {open_alert} not yet ended; end it, then erase.')
    family = (
        await session.scalars(select(models.FamilyContact).where(models.FamilyContact.resident_id == resident_id))
    ).all()
    # (her card's camera and key safe code are nowhere else: the card is deleted below)
    texts = {value: ERASED for value in (resident.name, resident.address, resident.notes) if value}
    texts |= {contact.name: ERASED for contact in family}
    phones = [resident.phone, *(contact.phone for contact in family)]
    # each its own: a phone is part of unique keys (an SMS's dedupe key)
    texts |= {phone: f"[erased phone {number} of {resident_id}]" for number, phone in enumerate(phones) if phone}
    await session.execute(delete(models.FamilyContact).where(models.FamilyContact.resident_id == resident_id))
    await session.execute(delete(models.ResidentCard).where(models.ResidentCard.resident_id == resident_id))
    for column in ("home_lat", "home_lon", "safe_lat", "safe_lon", "safe_radius_m", "safe_region", "phone"):
        setattr(resident, column, None)
    resident.name, resident.address, resident.notes, resident.active = ERASED, "", "", False
    devices = select(models.Device.id).where(models.Device.resident_id == resident_id)
    await session.execute(
        update(models.Device)
        .where(models.Device.resident_id == resident_id)
        .values(active=False, review_at=None, last_lat=None, last_lon=None, last_accuracy_m=None, last_fix_at=None)
    )
    await session.execute(
        update(models.DeviceMessage).where(models.DeviceMessage.device_id.in_(devices)).values(payload=b"")
    )
    await session.execute(
        update(models.Alert)
        .where(models.Alert.resident_id == resident_id)
        .values(lat=None, lon=None, accuracy_m=None, position_at=None)
    )
    return texts


async def _erase_volunteer(session: AsyncSession, volunteer_id: str) -> dict[str, str]:
    volunteer = await session.get(models.Volunteer, volunteer_id)
    if volunteer is None:
        raise UserError(f'erase: there is no volunteer "{volunteer_id}"; check the id.')
    held = await session.scalar(
        select(models.Alert.id)
        .where(
            models.Alert.acknowledged_by == volunteer_id,
            models.Alert.state.in_([state for state in NOT_ENDED if state != "open"]),
        )
        .limit(1)
    )
    if held is not None:
        raise UserError(f'erase: volunteer "{volunteer_id}" holds alert {held}; end it or hand it back, then erase.')
    texts = {volunteer.name: ERASED, volunteer.phone: f"[erased phone of {volunteer_id}]"}
    phones = (
        await session.scalars(select(models.VolunteerPhone).where(models.VolunteerPhone.volunteer_id == volunteer_id))
    ).all()
    for phone in phones:
        phone.last_lat = phone.last_lon = phone.last_accuracy_m = None
        phone.last_fix_at = None
        await session.execute(
            update(models.DeviceMessage).where(models.DeviceMessage.topic.like(f"{phone.topic}%")).values(payload=b"")
        )
    volunteer.home_lat = volunteer.home_lon = None
    volunteer.active = False
    return texts


async def _overwrite_everywhere(session: AsyncSession, texts: dict[str, str]) -> int:
    """Overwrite each text in every text column of every table; how many cells changed."""
    needles = {text: replacement for text, replacement in texts.items() if len(text.strip()) >= SHORTEST_NEEDLE}
    if not needles:
        return 0
    await session.flush()
    # the texts' parameters (names, addresses) of every SMS that named them, before the texts change
    await session.execute(
        update(models.Notification)
        .where(or_(*(models.Notification.body.contains(text, autoescape=True) for text in needles)))
        .values(params=null())
    )
    cells = 0
    for table in models.Base.metadata.tables.values():
        for column in table.columns:
            if not isinstance(column.type, String | Text):
                continue
            for text, replacement in sorted(needles.items(), key=lambda item: -len(item[0])):
                result = await session.execute(
                    update(table)
                    .where(column.contains(text, autoescape=True))
                    .values({column.name: func.replace(column, text, replacement)})
                )
                cells += int(getattr(result, "rowcount", 0) or 0)
    return cells
