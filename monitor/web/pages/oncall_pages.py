"""Who is on call: the console page and its JSON twin (``GET /oncall``, ``GET /api/oncall``).

Per area, everyone serving it with where they stand now (on call, off duty by schedule,
off, paused, unreachable after STOP) and until when, and the gaps in the coming week when
nobody serving the area is on call; duty staff apart.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.oncall.roster import Person, Roster, load_roster
from monitor.users.identity import Principal
from monitor.web.auth import require_user
from monitor.web.services import context_of, services_of


async def _roster(request: Request, principal: Principal) -> Roster:
    context = context_of(request)
    scope = principal.scope
    async with context.database.read() as session:
        return await load_roster(
            session,
            context.clock.now(),
            ZoneInfo(context.settings.service.timezone),
            areas_within=scope.area_rows(),
            staff_within=scope.volunteers(),
        )


async def oncall_page(request: Request) -> Response:
    principal = await require_user(request)
    roster = await _roster(request, principal)
    return services_of(request).renderer.render(request, "oncall.html", principal, roster=roster)


async def oncall_json(request: Request) -> Response:
    principal = await require_user(request)
    return JSONResponse(roster_json(await _roster(request, principal)))


def roster_json(roster: Roster) -> dict[str, Any]:
    return {
        "now": roster.now.isoformat(),
        "until": roster.until.isoformat(),
        "areas": [
            {
                "id": area.area_id,
                "name": area.area_name,
                "on_call_now": [person.volunteer.id for person in area.on_call],
                "people": [_person(person) for person in area.people],
                "gaps": [{"from": start.isoformat(), "to": end.isoformat()} for start, end in area.gaps],
            }
            for area in roster.areas
        ],
        "staff": [_person(person) for person in roster.staff],
    }


def _person(person: Person) -> dict[str, Any]:
    return {
        "id": person.volunteer.id,
        "name": person.volunteer.name,
        "role": person.volunteer.role,
        "phone": person.volunteer.phone,
        "status": person.standing.duty.value,
        "until": person.standing.until.isoformat() if person.standing.until else None,
        "reachable": person.reachable,
    }
