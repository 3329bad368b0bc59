"""Gathering what the SMS texts say about an alert (resident, address, area, position)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.notify.texts import AlertFacts
from monitor.store.models import Alert, Area, Resident


async def load_facts(session: AsyncSession, alert: Alert) -> tuple[AlertFacts, str]:
    """The facts for ``alert`` and the language messages about its resident use."""
    resident = await session.get(Resident, alert.resident_id) if alert.resident_id else None
    area = await session.get(Area, alert.area_id) if alert.area_id else None
    return facts_of(alert, resident, area)


def facts_of(alert: Alert, resident: Resident | None, area: Area | None) -> tuple[AlertFacts, str]:
    """``load_facts`` from rows already read: the facts and the resident's language."""
    facts = AlertFacts(
        code=alert.id,
        kind=alert.kind,
        raised_at=alert.raised_at,
        resident_name=resident.name if resident else "?",
        address=resident.address if resident else "",
        area_name=area.name if area else "",
        resident_phone=resident.phone if resident else None,
        lat=alert.lat,
        lon=alert.lon,
        accuracy_m=alert.accuracy_m,
        position_at=alert.position_at,
    )
    return facts, resident.language if resident else "en"
