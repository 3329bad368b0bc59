"""Alerts callwatch raises on its own, without a press: a person gone quiet or astray, a
device gone quiet.

Person alerts (geofence, missed_checkin) escalate through the policy that names their kind
(``kinds`` in the directory), else their area's. Device-health alerts get no policy: the
escalation engine records them and asks nobody, and supervision tells duty staff in
batches. No feedback goes to a device: it asked for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import PERSON_KINDS, AlertKind, AlertState
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.escalation.engine import Escalation
from monitor.store.models import Alert, AlertEvent, Area, EscalationPolicy

DEFAULT_POLICY_ID = "default"

#: latitude, longitude, accuracy in metres, when the fix was taken
Fix = tuple[float, float, float | None, datetime | None]


@dataclass(frozen=True, slots=True)
class NewAlert:
    kind: AlertKind
    area_id: str | None
    detail: str
    resident_id: str | None = None
    device_id: str | None = None
    position: Fix | None = None
    #: who raised it, for the audit log: "system", or the device whose message showed it
    actor: str = "system"
    device_message_id: int | None = None


async def open_alert(
    session: AsyncSession, effects: Effects, escalation: Escalation, metrics: Metrics, new: NewAlert, now: datetime
) -> Alert:
    """Insert the alert, its "raised" log entry, and start its escalation (none for device health)."""
    alert = Alert(
        kind=new.kind.value,
        state=AlertState.OPEN.value,
        device_id=new.device_id,
        resident_id=new.resident_id,
        area_id=new.area_id,
        raised_at=now,
        policy_id=await policy_for(session, new.kind, new.area_id) if new.kind in PERSON_KINDS else None,
        tier=0,
        round=0,
        unanswered=False,
    )
    if new.position is not None:
        alert.lat, alert.lon, alert.accuracy_m, alert.position_at = new.position
    session.add(alert)
    raised = AlertEvent(
        at=now, kind="raised", actor=new.actor, detail=new.detail, device_message_id=new.device_message_id
    )
    await escalation.start(session, alert, now, effects, opening=raised)
    metrics.alerts_raised.labels(kind=new.kind.value).inc()
    effects.changed_alert_ids.add(alert.id)
    return alert


async def policy_for(session: AsyncSession, kind: AlertKind, area_id: str | None) -> str:
    """The policy naming ``kind`` in its ``kinds``, else the area's, else "default"."""
    for policy in await session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.id)):
        if kind.value in (policy.kinds or []):
            return policy.id
    area = await session.get(Area, area_id) if area_id is not None else None
    return area.policy_id if area is not None and area.policy_id else DEFAULT_POLICY_ID
