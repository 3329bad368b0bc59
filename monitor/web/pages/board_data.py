"""The live board's rows: every alert still needing attention, in the order duty staff act on them.

Order: UNANSWERED first (every tier asked, nobody took it), then open alerts by kind
priority (SOS before fall before device health) and longest waiting first, then alerts
someone took but nobody closed yet (overdue ones first: nobody arrived, or it is not resolved
in time), then the last hour's closed alerts for context.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.alerts.in_hand import IN_HAND
from monitor.alerts.lifecycle import URGENT_KINDS, AlertState
from monitor.notify.requests import ASKING, SMS
from monitor.store.models import Alert, Area, ConsoleUser, FamilyContact, Notification, Resident, Volunteer
from monitor.users.scope import Scope

KIND_PRIORITY = {
    "sos": 0,
    "fall": 1,
    "geofence": 2,
    "missed_checkin": 3,
    "area_outage": 4,
    "device_offline": 5,
    "low_battery": 6,
}
URGENT = frozenset(kind.value for kind in URGENT_KINDS)
RECENT = timedelta(hours=1)
RECENT_LIMIT = 20
ACTIVE_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Told:
    """One person asked about an alert on one channel, and what became of that SMS or call."""

    name: str
    status: str
    tier: int | None
    round: int | None
    purpose: str
    #: "sms", "voice"
    channel: str = SMS


@dataclass(frozen=True, slots=True)
class BoardRow:
    id: int
    kind: str
    state: str
    unanswered: bool
    raised_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    resident_id: str | None
    resident_name: str
    area_name: str
    tier: int
    round: int
    taken_by: str | None
    outcome: str | None
    told: list[Told] = field(default_factory=list)
    #: follow-through: when the present holder took it, their ETA, when they arrived; nobody in time
    taken_at: datetime | None = None
    eta: datetime | None = None
    on_site_at: datetime | None = None
    overdue: bool = False

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT

    @property
    def is_open(self) -> bool:
        return self.state == AlertState.OPEN

    @property
    def stage_since(self) -> datetime | None:
        """When the present stage of a taken alert began (the board's clock): arrived, else taken."""
        return self.on_site_at or self.taken_at

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "unanswered": self.unanswered,
            "raised_at": self.raised_at.isoformat(),
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "resident": {"id": self.resident_id, "name": self.resident_name},
            "area": self.area_name,
            "tier": self.tier,
            "round": self.round,
            "taken_by": self.taken_by,
            "outcome": self.outcome,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "eta": self.eta.isoformat() if self.eta else None,
            "on_site_at": self.on_site_at.isoformat() if self.on_site_at else None,
            "overdue": self.overdue,
            "told": [
                {
                    "name": told.name,
                    "status": told.status,
                    "tier": told.tier,
                    "round": told.round,
                    "purpose": told.purpose,
                    "channel": told.channel,
                }
                for told in self.told
            ],
        }


@dataclass(frozen=True, slots=True)
class Board:
    now: datetime
    active: list[BoardRow]
    recent: list[BoardRow]

    @property
    def open_urgent(self) -> int:
        return sum(row.is_open and row.urgent for row in self.active)

    @property
    def unanswered(self) -> int:
        return sum(row.is_open and row.unanswered for row in self.active)

    @property
    def open_count(self) -> int:
        return sum(row.is_open for row in self.active)


def board_order(row: BoardRow) -> tuple[int, int, int, datetime]:
    state_rank = 0 if row.is_open else (1 if row.overdue else 2)
    return (0 if row.is_open and row.unanswered else 1, state_rank, KIND_PRIORITY.get(row.kind, 9), row.raised_at)


async def load_board(session: AsyncSession, now: datetime, scope: Scope) -> Board:
    """The board of what ``scope`` sees."""
    active = (
        await session.scalars(
            select(Alert)
            .where(Alert.state.in_([state.value for state in IN_HAND]), scope.alerts())
            .order_by(Alert.raised_at)
            .limit(ACTIVE_LIMIT)
        )
    ).all()
    closed_at = func.coalesce(Alert.resolved_at, Alert.cancelled_at)
    recent = (
        await session.scalars(
            select(Alert)
            .where(
                Alert.state.in_([AlertState.RESOLVED.value, AlertState.CANCELLED.value]),
                or_(Alert.resolved_at >= now - RECENT, Alert.cancelled_at >= now - RECENT),
                scope.alerts(),
            )
            .order_by(closed_at.desc())
            .limit(RECENT_LIMIT)
        )
    ).all()
    rows = await rows_for(session, [*active, *recent])
    by_id = {row.id: row for row in rows}
    return Board(
        now=now,
        active=sorted((by_id[alert.id] for alert in active), key=board_order),
        recent=[by_id[alert.id] for alert in recent],
    )


async def rows_for(session: AsyncSession, alerts: list[Alert]) -> list[BoardRow]:
    """Board rows for ``alerts`` with names and SMS statuses, in a fixed handful of queries."""
    if not alerts:
        return []
    ids = [alert.id for alert in alerts]
    resident_ids = {alert.resident_id for alert in alerts if alert.resident_id}
    area_ids = {alert.area_id for alert in alerts if alert.area_id}
    residents = dict(
        (await session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(resident_ids)))).all()
    )
    areas = dict((await session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids)))).all())
    notifications = (
        await session.execute(
            select(
                Notification.alert_id,
                Notification.volunteer_id,
                Notification.phone,
                Notification.status,
                Notification.tier,
                Notification.round,
                Notification.purpose,
                Notification.channel,
            )
            .where(Notification.alert_id.in_(ids), Notification.purpose.in_(ASKING))
            .order_by(Notification.id)
        )
    ).all()
    names = await display_names(
        session,
        {row.volunteer_id for row in notifications if row.volunteer_id}
        | {alert.acknowledged_by for alert in alerts if alert.acknowledged_by},
    )
    told: dict[int, list[Told]] = defaultdict(list)
    for row in notifications:
        if row.alert_id is None:
            continue
        name = names.get(row.volunteer_id, row.phone) if row.volunteer_id else row.phone
        told[row.alert_id].append(Told(name, row.status, row.tier, row.round, row.purpose, row.channel))
    return [
        BoardRow(
            id=alert.id,
            kind=alert.kind,
            state=alert.state,
            unanswered=alert.unanswered,
            raised_at=alert.raised_at,
            acknowledged_at=alert.acknowledged_at,
            closed_at=alert.resolved_at or alert.cancelled_at,
            resident_id=alert.resident_id,
            resident_name=residents.get(alert.resident_id, alert.resident_id or "") if alert.resident_id else "",
            area_name=areas.get(alert.area_id, alert.area_id or "") if alert.area_id else "",
            tier=alert.tier + 1,
            round=alert.round + 1,
            taken_by=names.get(alert.acknowledged_by, alert.acknowledged_by) if alert.acknowledged_by else None,
            outcome=alert.outcome,
            told=told.get(alert.id, []),
            taken_at=alert.taken_at,
            eta=alert.eta,
            on_site_at=alert.on_site_at,
            overdue=alert.overdue,
        )
        for alert in alerts
    ]


async def display_names(session: AsyncSession, actors: set[str]) -> dict[str, str]:
    """People's names for what alerts and the log keep: volunteer ids, "user:<name>", "volunteer:<id>",
    "family:<id>" (a resident's family contact)."""
    volunteer_ids = {actor.removeprefix("volunteer:") for actor in actors if not actor.startswith(("user:", "family:"))}
    user_names = {actor.removeprefix("user:") for actor in actors if actor.startswith("user:")}
    family_ids = {int(actor[7:]) for actor in actors if actor.startswith("family:") and actor[7:].isdigit()}
    names: dict[str, str] = {}
    if family_ids:
        for contact_id, name in await session.execute(
            select(FamilyContact.id, FamilyContact.name).where(FamilyContact.id.in_(family_ids))
        ):
            names[f"family:{contact_id}"] = name
    if volunteer_ids:
        for volunteer_id, name in await session.execute(
            select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(volunteer_ids))
        ):
            names[volunteer_id] = name
            names[f"volunteer:{volunteer_id}"] = name
    if user_names:
        for user_name, display in await session.execute(
            select(ConsoleUser.name, ConsoleUser.display_name).where(ConsoleUser.name.in_(user_names))
        ):
            names[f"user:{user_name}"] = display
    return names
