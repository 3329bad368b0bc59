"""Residents' family contacts: kept as rows, written by the directory import and the console alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import FamilyContact

#: A tier's "notify" target, or a policy's "inform" entry, meaning the resident's family contacts.
FAMILY_TARGET = "family"


@dataclass(frozen=True, slots=True)
class ContactValues:
    name: str
    phone: str
    language: str
    relationship: str = ""


def values_of(contact: FamilyContact) -> ContactValues:
    return ContactValues(contact.name, contact.phone, contact.language, contact.relationship)


async def family_of(session: AsyncSession, resident_id: str) -> list[FamilyContact]:
    """The resident's contacts, in the order they were listed."""
    query = (
        select(FamilyContact)
        .where(FamilyContact.resident_id == resident_id)
        .order_by(FamilyContact.position, FamilyContact.id)
    )
    return list((await session.scalars(query)).all())


async def replace_family(session: AsyncSession, resident_id: str, contacts: Sequence[ContactValues]) -> bool:
    """Make the resident's contacts exactly ``contacts``; whether anything changed."""
    current = [values_of(row) for row in await family_of(session, resident_id)]
    if current == list(contacts):
        return False
    await session.execute(delete(FamilyContact).where(FamilyContact.resident_id == resident_id))
    session.add_all(
        FamilyContact(
            resident_id=resident_id,
            position=position,
            name=contact.name,
            relationship=contact.relationship,
            phone=contact.phone,
            language=contact.language,
        )
        for position, contact in enumerate(contacts)
    )
    return True


def contact_json(contact: FamilyContact) -> dict[str, Any]:
    """A contact as the console and the API show it (``relation``, as the care card always said)."""
    return {
        "name": contact.name,
        "relation": contact.relationship,
        "phone": contact.phone,
        "language": contact.language,
    }
