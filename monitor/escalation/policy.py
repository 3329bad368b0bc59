"""Which escalation policy an alert follows, and where in it the next step goes.

A policy is the directory's (``monitor.directory.model.Policy``: tiers, repeat rounds,
whom to inform), kept as a row. An SOS or fall follows its area's policy; a person gone
quiet or astray (missed check-in, left the safe zone) follows the active policy that names
its kind, else its area's; an area without one follows ``"default"``. Device-health alerts
follow none: duty staff hear of them in batches (``monitor.watch.health_reports``).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.lifecycle import HEALTH_KINDS, PERSON_KINDS, AlertKind
from monitor.directory.model import DEFAULT_POLICY_ID, Policy
from monitor.store.models import Area, EscalationPolicy

log = logging.getLogger("callwatch.escalation")


def policy_of(row: EscalationPolicy) -> Policy | None:
    """The policy a row holds, or None (logged) if it no longer validates: the alert then goes
    straight to duty staff rather than nowhere."""
    try:
        kept = {
            "id": row.id,
            "tiers": row.tiers,
            "repeat": row.repeat,
            "kinds": row.kinds,
            "inform": row.inform,
            "arrive_within_s": row.arrive_within_s,
            "resolve_within_s": row.resolve_within_s,
            "arrival_radius_m": row.arrival_radius_m,
        }
        return Policy.model_validate({key: value for key, value in kept.items() if value is not None})
    except ValidationError as exc:
        log.error("escalation policy %r in the database is not valid, so it is not followed: %s", row.id, exc)
        return None


async def policy_id_for(session: AsyncSession, kind: AlertKind, area: Area | None) -> str | None:
    """The id of the policy a new alert of ``kind`` in ``area`` follows (the rule in the module docstring)."""
    if kind in HEALTH_KINDS:
        return None
    if kind in PERSON_KINDS:
        active = select(EscalationPolicy).where(EscalationPolicy.active.is_(True)).order_by(EscalationPolicy.id)
        for policy in await session.scalars(active):
            if kind.value in (policy.kinds or []):
                return policy.id
    return area.policy_id if area is not None and area.policy_id else DEFAULT_POLICY_ID


def next_position(policy: Policy, tier: int, round_number: int) -> tuple[int, int] | None:
    """The (tier, round) after this one, or None when every tier of every round was asked."""
    if tier + 1 < len(policy.tiers):
        return tier + 1, round_number
    if round_number < policy.repeat:
        return 0, round_number + 1
    return None
