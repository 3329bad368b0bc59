"""The alert state machine. Every state change of an alert goes through ``transition``.

open ──► acknowledged ──► en_route ──► on_site ──► resolved
  │           │  └──────────┼────────────┴──────────► resolved  (from any taken state)
  │           └─────────────┴──► on_site              (arrived without saying "on my way")
  │     acknowledged, en_route, on_site ──► open      (handed back, overdue, re-escalated: asked again)
  ├────► cancelled          (the resident cancelled before anyone took it)
  └────► resolved           (device-health alerts only: the condition cleared by itself)

"Taken" (``TAKEN``) is acknowledged, en_route or on_site: someone has the alert in hand.
``acknowledged_at`` is when the alert was first answered (the answering figures); ``taken_at``
when its present holder took it (their arrival clock starts there).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from monitor.store.models import Alert, AlertEvent


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


class AlertKind(StrEnum):
    SOS = "sos"
    FALL = "fall"
    GEOFENCE = "geofence"
    MISSED_CHECKIN = "missed_checkin"
    DEVICE_OFFLINE = "device_offline"
    LOW_BATTERY = "low_battery"
    AREA_OUTAGE = "area_outage"


#: Kinds that wake volunteers at once; the others go to duty staff and digests.
URGENT_KINDS: frozenset[AlertKind] = frozenset({AlertKind.SOS, AlertKind.FALL})
#: A person gone quiet or astray (monitor.watch, monitor.watch.geofence): escalated by the
#: policy that names the kind, else by the area's policy.
PERSON_KINDS: frozenset[AlertKind] = frozenset({AlertKind.GEOFENCE, AlertKind.MISSED_CHECKIN})
#: Kinds that escalate through a policy, tier by tier, until a human takes them.
ESCALATING_KINDS: frozenset[AlertKind] = URGENT_KINDS | PERSON_KINDS
#: Device-health kinds: told to duty staff in batches and to the area's daily digest, never
#: escalated (monitor.watch); they end by themselves when the device is well again.
HEALTH_KINDS: frozenset[AlertKind] = frozenset({AlertKind.DEVICE_OFFLINE, AlertKind.LOW_BATTERY, AlertKind.AREA_OUTAGE})


class Outcome(StrEnum):
    """How a resolved alert ended, for the reports."""

    FALSE_ALARM = "false_alarm"
    HANDLED_BY_PHONE = "handled_by_phone"
    VOLUNTEER_VISITED = "volunteer_visited"
    AMBULANCE_CALLED = "ambulance_called"
    OTHER = "other"
    CLEARED = "cleared"  # a device-health condition ended by itself (back online, battery charged)


#: Someone has the alert in hand: took it, is on the way, or is there.
TAKEN: tuple[AlertState, ...] = (AlertState.ACKNOWLEDGED, AlertState.EN_ROUTE, AlertState.ON_SITE)

ALLOWED: frozenset[tuple[AlertState, AlertState]] = frozenset(
    {
        (AlertState.OPEN, AlertState.ACKNOWLEDGED),
        (AlertState.OPEN, AlertState.CANCELLED),
        (AlertState.ACKNOWLEDGED, AlertState.EN_ROUTE),
        (AlertState.ACKNOWLEDGED, AlertState.ON_SITE),
        (AlertState.EN_ROUTE, AlertState.ON_SITE),
        *((taken, AlertState.RESOLVED) for taken in TAKEN),
        *((taken, AlertState.OPEN) for taken in TAKEN),
    }
)
#: Allowed for HEALTH_KINDS only: nobody needs to take a device that came back by itself.
SELF_CLEARING: tuple[AlertState, AlertState] = (AlertState.OPEN, AlertState.RESOLVED)


class InvalidTransition(Exception):
    def __init__(self, alert: Alert, target: AlertState) -> None:
        super().__init__(f"alert {alert.id} cannot go from {alert.state} to {target}")
        self.current = AlertState(alert.state)
        self.target = target


def transition(
    alert: Alert,
    target: AlertState,
    *,
    at: datetime,
    actor: str,
    by: str | None = None,
    detail: str = "",
    outcome: Outcome | None = None,
    eta: datetime | None = None,
) -> AlertEvent:
    """Move ``alert`` to ``target``, stamping who and when; the returned event is its record.

    ``actor`` goes into the audit log ("volunteer:v-01"); ``by`` is what the alert itself
    keeps as who acknowledged, arrived or resolved (the volunteer's id; ``actor`` when not
    given); ``eta``: when someone on the way expects to be there. Leaving ``open`` ends the
    escalation and any state change ends the follow-up timer of the state left: whoever moves
    the alert sets the next one (``monitor.actions.follow_through``).
    """
    if not can_transition(alert, target):
        raise InvalidTransition(alert, target)
    alert.state = target
    alert.next_escalation_at = None
    alert.follow_up = None
    alert.follow_up_at = None
    if target is AlertState.ACKNOWLEDGED:
        alert.acknowledged_at = alert.acknowledged_at or at
        alert.acknowledged_by = by or actor
        alert.taken_at = at
    elif target is AlertState.EN_ROUTE:
        alert.en_route_at = at
        alert.eta = eta
    elif target is AlertState.ON_SITE:
        alert.on_site_at = at
        alert.on_site_by = by or actor
    elif target is AlertState.OPEN:
        # asked again: nobody holds it now (the log keeps who did)
        alert.acknowledged_by = None
        alert.taken_at = alert.en_route_at = alert.eta = alert.on_site_at = alert.on_site_by = None
    elif target is AlertState.RESOLVED:
        alert.resolved_at = at
        alert.resolved_by = by or actor
        alert.outcome = (outcome or Outcome.OTHER).value
    elif target is AlertState.CANCELLED:
        alert.cancelled_at = at
    kind = "reopened" if target is AlertState.OPEN else target.value
    return AlertEvent(alert_id=alert.id, at=at, kind=kind, actor=actor, detail=detail)


def can_transition(alert: Alert, target: AlertState) -> bool:
    step = (AlertState(alert.state), target)
    return step in ALLOWED or (step == SELF_CLEARING and alert.kind in HEALTH_KINDS)
