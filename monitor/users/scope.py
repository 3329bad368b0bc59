"""What one console account sees and acts on: the whole service, a list of areas, or an
organisation (its areas, policies, volunteers and accounts).

Every read the console and the API make goes through one of the clauses here, one per kind of
row, so a page cannot forget the scope: alerts, residents, devices, volunteers, areas, policies,
accounts and the audit log. What is outside the scope is not there at all: a guessed alert id
is a plain 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, literal, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from monitor.directory import model as file_model
from monitor.store.models import (
    Alert,
    Area,
    ConsoleAudit,
    ConsoleUser,
    Device,
    EscalationPolicy,
    Organisation,
    Resident,
    Volunteer,
    VolunteerArea,
)


class ScopeError(ValueError):
    """A scope an account cannot have (an unknown organisation or area), in one sentence."""


@dataclass(frozen=True, slots=True)
class Scope:
    #: the organisation the account belongs to; None for a service-wide account or a list of areas
    organisation: str | None = None
    #: the areas it sees; None: every area, and what belongs to no area (the whole service)
    areas: frozenset[str] | None = None

    @property
    def service_wide(self) -> bool:
        return self.areas is None

    def describe(self) -> str:
        if self.organisation is not None:
            return f"organisation {self.organisation}"
        if self.areas is not None:
            return f"areas {', '.join(sorted(self.areas)) or '(none)'}"
        return "all areas"

    def sees_area(self, area_id: str | None) -> bool:
        return self.areas is None or (area_id is not None and area_id in self.areas)

    def covers(self, other: Scope) -> bool:
        """Whether everything ``other`` sees is within this scope (an administrator manages only
        accounts whose scope is inside their own)."""
        if self.areas is None:
            return True
        if self.organisation is not None:
            return other.organisation == self.organisation
        return other.areas is not None and other.organisation is None and other.areas <= self.areas

    # -- one clause per kind of row ---------------------------------------------------------------

    def _in_areas(self, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> ColumnElement[bool]:
        return true() if self.areas is None else column.in_(sorted(self.areas)) if self.areas else false()

    def alerts(self) -> ColumnElement[bool]:
        return self._in_areas(Alert.area_id)

    def area_rows(self) -> ColumnElement[bool]:
        return self._in_areas(Area.id)

    def residents(self) -> ColumnElement[bool]:
        return self._in_areas(Resident.area_id)

    def devices(self) -> ColumnElement[bool]:
        if self.areas is None:
            return true()
        return Device.resident_id.in_(select(Resident.id).where(self.residents()))

    def volunteers(self) -> ColumnElement[bool]:
        """Those serving one of the areas, and (an organisation's) those it manages."""
        if self.areas is None:
            return true()
        serving = Volunteer.id.in_(select(VolunteerArea.volunteer_id).where(self._in_areas(VolunteerArea.area_id)))
        return or_(serving, Volunteer.organisation_id == self.organisation) if self.organisation else serving

    def policies(self) -> ColumnElement[bool]:
        """The policies the areas follow, and (an organisation's) those it owns."""
        if self.areas is None:
            return true()
        followed = func.coalesce(Area.policy_id, file_model.DEFAULT_POLICY_ID)  # no policy: the default one
        used = EscalationPolicy.id.in_(select(followed).where(self.area_rows()))
        return or_(used, EscalationPolicy.organisation_id == self.organisation) if self.organisation else used

    def section(self, key: str) -> ColumnElement[bool]:
        """The clause for a directory section's rows ("residents", "devices", ...)."""
        clauses = {
            "residents": self.residents,
            "devices": self.devices,
            "volunteers": self.volunteers,
            "areas": self.area_rows,
            "policies": self.policies,
            "organisations": self.organisations,
        }
        return clauses[key]()

    def organisations(self) -> ColumnElement[bool]:
        if self.areas is None:
            return true()
        return Organisation.id == self.organisation if self.organisation else false()

    def audit(self, user_names: Iterable[str]) -> ColumnElement[bool]:
        """Audit entries about what is in scope (``"residents:r-1"``, ``"resident:r-1"``, ...), or
        done by or to one of ``user_names`` (the accounts in scope)."""
        if self.areas is None:
            return true()
        names = sorted(user_names)
        targets: list[Select[Any]] = [
            select(literal(prefix) + column).where(clause)
            for prefix, column, clause in (
                ("residents:", Resident.id, self.residents()),
                ("resident:", Resident.id, self.residents()),
                ("devices:", Device.id, self.devices()),
                ("volunteers:", Volunteer.id, self.volunteers()),
                ("volunteer:", Volunteer.id, self.volunteers()),
                ("areas:", Area.id, self.area_rows()),
                ("policies:", EscalationPolicy.id, self.policies()),
            )
        ]
        return or_(
            ConsoleAudit.target.in_(union(*targets)),
            ConsoleAudit.target.in_([f"user:{name}" for name in names]),
            ConsoleAudit.actor.in_([f"user:{name}" for name in names]),
        )


ALL = Scope()


def stated_scope(user: ConsoleUser) -> Scope:
    """The account's scope as its row states it, an organisation's areas not read (enough for
    ``Scope.covers``)."""
    if user.organisation_id is not None:
        return Scope(organisation=user.organisation_id, areas=frozenset())
    if user.areas is not None:
        return Scope(areas=frozenset(user.areas))
    return ALL


async def scope_of(session: AsyncSession, user: ConsoleUser) -> Scope:
    """The account's scope as it stands now: an organisation's areas are read afresh, so an area
    moved to another organisation leaves its staff's sight at once."""
    stated = stated_scope(user)
    if stated.organisation is None:
        return stated
    areas = await session.scalars(select(Area.id).where(Area.organisation_id == stated.organisation))
    return Scope(organisation=stated.organisation, areas=frozenset(areas.all()))


async def check_scope(session: AsyncSession, organisation: str | None, areas: Sequence[str] | None) -> Scope:
    """The scope an account is being given, checked against the directory; ``ScopeError`` naming
    the organisation or area that does not exist."""
    if organisation and areas:
        raise ScopeError("give an organisation or a list of areas, not both")
    if organisation:
        if await session.get(Organisation, organisation) is None:
            raise ScopeError(f'organisation "{organisation}" does not exist; import a directory file that lists it')
        return Scope(organisation=organisation, areas=frozenset())
    if areas:
        known = set((await session.scalars(select(Area.id).where(Area.id.in_(areas)))).all())
        missing = [area for area in areas if area not in known]
        if missing:
            raise ScopeError(f'area "{missing[0]}" does not exist; check the id')
        return Scope(areas=frozenset(areas))
    return ALL


def apply_scope(user: ConsoleUser, scope: Scope) -> None:
    """Store ``scope`` on the account's row (checked with ``check_scope``)."""
    user.organisation_id = scope.organisation
    user.areas = sorted(scope.areas) if scope.areas is not None and scope.organisation is None else None


async def outside_scope(session: AsyncSession, scope: Scope, entry: file_model.Entry) -> str | None:
    """Why an account of ``scope`` may not save ``entry`` (None: it may): the entry as saved, and
    the one it replaces (same id), must both be the account's to manage, so nobody hands their
    entries to another organisation, or takes another's."""
    if scope.service_wide:
        return None
    if isinstance(entry, file_model.Organisation):
        return "only service-wide administrators manage organisations"
    if isinstance(entry, file_model.Area | file_model.Policy) and scope.organisation is None:
        return "only service-wide or organisation administrators manage areas and policies"
    if await _manages(session, scope, entry) and await manages_existing(
        session, scope, SECTION_OF[type(entry)], entry.id
    ):
        return None
    mine = f'organisation "{scope.organisation}"' if scope.organisation else "your areas"
    return f"you manage only what belongs to {mine}; keep this entry within it"


async def _manages(session: AsyncSession, scope: Scope, entry: file_model.Entry) -> bool:
    """Whether the entry, as it would be saved, is the account's to manage."""
    if isinstance(entry, file_model.Resident):
        return scope.sees_area(entry.area)
    if isinstance(entry, file_model.Device):
        if entry.volunteer is not None:
            volunteer = await session.get(Volunteer, entry.volunteer)
            return volunteer is not None and await _manages_volunteer(session, scope, volunteer.id)
        owner = await session.get(Resident, entry.resident) if entry.resident else None
        return owner is not None and scope.sees_area(owner.area_id)
    if isinstance(entry, file_model.Volunteer):
        if entry.organisation is not None:
            return entry.organisation == scope.organisation
        return any(scope.sees_area(area) for area in entry.areas)
    return isinstance(entry, file_model.Area | file_model.Policy) and entry.organisation == scope.organisation


#: a directory section's entries and rows
SECTION_OF: dict[type[file_model.Entry], str] = {
    file_model.Resident: "residents",
    file_model.Device: "devices",
    file_model.Volunteer: "volunteers",
    file_model.Area: "areas",
    file_model.Policy: "policies",
    file_model.Organisation: "organisations",
}


async def manages_existing(session: AsyncSession, scope: Scope, section: str, entry_id: str) -> bool:
    """Whether the section's row with this id, if there is one, is the account's to manage (to
    replace, retire or erase): seeing it is not enough where it belongs to another organisation."""
    if scope.service_wide:
        return True
    if section == "residents":
        resident = await session.get(Resident, entry_id)
        return resident is None or scope.sees_area(resident.area_id)
    if section == "devices":
        device = await session.get(Device, entry_id)
        owner = await session.get(Resident, device.resident_id) if device is not None else None
        return device is None or (owner is not None and scope.sees_area(owner.area_id))
    if section == "volunteers":
        return await session.get(Volunteer, entry_id) is None or await _manages_volunteer(session, scope, entry_id)
    if section in ("areas", "policies"):
        owned: Area | EscalationPolicy | None = await session.get(
            Area if section == "areas" else EscalationPolicy, entry_id
        )
        return owned is None or owned.organisation_id == scope.organisation
    return False


async def _manages_volunteer(session: AsyncSession, scope: Scope, volunteer_id: str) -> bool:
    """A volunteer of the account's organisation, or of none who serves one of its areas."""
    volunteer = await session.get(Volunteer, volunteer_id)
    if volunteer is None:
        return False
    if volunteer.organisation_id is not None:
        return volunteer.organisation_id == scope.organisation
    served = await session.scalars(select(VolunteerArea.area_id).where(VolunteerArea.volunteer_id == volunteer_id))
    return any(scope.sees_area(area) for area in served)


async def alert_in_scope(
    session: AsyncSession, scope: Scope, alert_id: int, *, for_update: bool = False
) -> Alert | None:
    """The alert, when it exists and is in ``scope``; None otherwise (a 404 either way)."""
    alert = await session.get(Alert, alert_id, with_for_update=for_update)
    return alert if alert is not None and scope.sees_area(alert.area_id) else None


async def sees_volunteer(session: AsyncSession, scope: Scope, volunteer_id: str) -> bool:
    """Whether ``scope`` sees this volunteer (one a console action names, to take or be given an alert)."""
    if scope.service_wide:
        return True
    found = await session.scalar(select(Volunteer.id).where(Volunteer.id == volunteer_id, scope.volunteers()))
    return found is not None


async def visible_alert_ids(session: AsyncSession, scope: Scope, alert_ids: Iterable[int]) -> set[int]:
    """Which of ``alert_ids`` the scope sees (the live stream tells a console only of those)."""
    wanted = set(alert_ids)
    if scope.service_wide or not wanted:
        return wanted
    return set((await session.scalars(select(Alert.id).where(Alert.id.in_(wanted), scope.alerts()))).all())
