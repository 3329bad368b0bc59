"""The JSON API: everything the console does, for scripts and integrations (see /api/openapi.json).

Authenticated by a user's API token (``Authorization: Bearer cw_...``; made on the account
page or with ``callwatch user token``), by the shared ``[web] api_token`` (acts as "api"),
or by a console session plus its CSRF token in ``X-CSRF-Token``. Actions are recorded
under the user's name, as in the console.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.actions.console import ActionRefused
from monitor.alerts.lifecycle import AlertState
from monitor.alerts.views import alert_summary, list_alerts
from monitor.core.errors import UserError
from monitor.reports.export import report_data
from monitor.reports.period import PeriodError
from monitor.users.accounts import AccountError, NewUser, create_user, list_users
from monitor.users.identity import Principal, Role, Via
from monitor.users.scope import Scope, stated_scope
from monitor.web.auth import require_user
from monitor.web.forms import directory_forms
from monitor.web.pages import alert_ops, directory_pages, report_pages, user_pages
from monitor.web.pages.alert_detail import load_alert_detail
from monitor.web.pages.board_data import load_board
from monitor.web.pages.camera_pages import NoCamera, issue_camera_link
from monitor.web.refusals import BadRequest, PageNotFound
from monitor.web.services import context_of, services_of

MAX_BODY = 256 * 1024


async def _body(request: Request) -> dict[str, Any]:
    """The request's body, a JSON object ({} when empty); anything else is refused with a 400."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("body too large")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _error(message: str, status_code: int, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status_code)


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def me(request: Request) -> Response:
    principal = await require_user(request)
    return JSONResponse(
        {
            "name": principal.name,
            "display_name": principal.display_name,
            "role": principal.role.value,
            "language": principal.language,
            "actor": principal.actor,
            "scope": _scope_json(principal.scope),
        }
    )


async def board(request: Request) -> Response:
    principal = await require_user(request)
    context = context_of(request)
    async with context.database.read() as session:
        found = await load_board(session, context.clock.now(), principal.scope)
    return JSONResponse(
        {
            "now": found.now.isoformat(),
            "open": found.open_count,
            "open_urgent": found.open_urgent,
            "unanswered": found.unanswered,
            "active": [row.as_json() for row in found.active],
            "recent": [row.as_json() for row in found.recent],
        }
    )


async def alerts(request: Request) -> Response:
    principal = await require_user(request)
    context = context_of(request)
    state = request.query_params.get("state")
    if state is not None and state not in {s.value for s in AlertState}:
        return _error(f"state must be one of {', '.join(s.value for s in AlertState)}", 400)
    async with context.database.read() as session:
        found = await list_alerts(session, state, within=principal.scope.alerts())
    return JSONResponse({"alerts": [alert_summary(alert) for alert in found]})


async def alert(request: Request) -> Response:
    principal = await require_user(request)
    context = context_of(request)
    async with context.database.read() as session:
        detail = await load_alert_detail(
            session, int(request.path_params["alert_id"]), context.clock.now(), principal.scope
        )
    if detail is None:
        raise PageNotFound
    card = detail.card
    return JSONResponse(
        {
            "alert": alert_summary(detail.alert),
            "board": detail.row.as_json(),
            "resident": {
                "id": card.resident.id,
                "name": card.resident.name,
                "address": card.resident.address,
                "phone": card.resident.phone,
                "notes": card.resident.notes,
                "area": card.area.name if card.area else card.resident.area_id,
                "emergency_contacts": card.contacts,
                "camera": card.camera_url is not None,
            }
            if card.resident
            else None,
            "timeline": [entry.as_json() for entry in detail.timeline],
        }
    )


async def _act(request: Request, build: Any) -> Response:
    principal = await require_user(request)
    try:
        body = await _body(request)
        action = build(body)
        if principal.via is Via.SHARED_TOKEN and body.get("name"):
            # scripts on the shared token may say which person they act for
            principal = dataclasses.replace(principal, display_name=str(body["name"])[:100])
        summary = await alert_ops.act(request, principal, int(request.path_params["alert_id"]), action)
    except alert_ops.AlertMissing:
        return _error("no such alert", 404)
    except ActionRefused as refused:
        return _error(str(refused), 409)
    return JSONResponse({"alert": summary})


async def acknowledge(request: Request) -> Response:
    return await _act(request, lambda body: alert_ops.acknowledge(str(body.get("volunteer_id") or "") or None))


async def escalate(request: Request) -> Response:
    return await _act(request, lambda body: alert_ops.escalate(str(body.get("reason") or "")))


async def reassign(request: Request) -> Response:
    return await _act(
        request, lambda body: alert_ops.reassign(str(body.get("volunteer_id") or ""), str(body.get("reason") or ""))
    )


async def mark_arrived(request: Request) -> Response:
    return await _act(
        request,
        lambda body: alert_ops.mark_arrived(str(body.get("reason") or ""), str(body.get("volunteer_id") or "") or None),
    )


async def add_note(request: Request) -> Response:
    return await _act(request, lambda body: alert_ops.note(str(body.get("text", ""))))


async def resolve(request: Request) -> Response:
    def build(body: dict[str, Any]) -> alert_ops.Action:
        return alert_ops.resolve(alert_ops.parse_outcome(body.get("outcome", "other")), str(body.get("note") or ""))

    return await _act(request, build)


async def camera(request: Request) -> Response:
    """A one-use link to the camera, for a person's browser; the camera's address is never given out."""
    principal = await require_user(request)
    try:
        path, expires_at = await issue_camera_link(request, principal, int(request.path_params["alert_id"]))
    except alert_ops.AlertMissing:
        return _error("no such alert", 404)
    except NoCamera:
        return _error("no camera the resident consented to", 404)
    except ActionRefused as refused:
        return _error(str(refused), 409)
    link = context_of(request).settings.web.public_url + path
    return JSONResponse({"link": link, "expires_at": expires_at.isoformat(), "uses": 1})


def _section(request: Request) -> directory_forms.Section:
    section = directory_forms.SECTIONS.get(request.path_params["section"])
    if section is None:
        raise PageNotFound
    return section


async def directory_list(request: Request) -> Response:
    principal = await require_user(request)
    section = _section(request)
    rows = await directory_pages.entry_rows(
        request, principal, section, request.query_params.get("q", "").strip()[:100]
    )
    return JSONResponse({section.key: rows})


async def directory_entry(request: Request) -> Response:
    principal = await require_user(request)
    section = _section(request)
    async with context_of(request).database.read() as session:
        row = await directory_pages.scoped_row(session, principal, section, request.path_params["entry_id"])
        return JSONResponse(await directory_pages.entry_json(session, section, row))


async def directory_put(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    section = _section(request)
    body = await _body(request)
    body["id"] = request.path_params["entry_id"]
    card_body = body.pop("card", None) if section.key == "residents" else None
    entry, problems = directory_forms.parse_entry(section, directory_forms.text_values(section, body))
    card = None
    if isinstance(card_body, dict):
        card = directory_forms.parse_card(directory_forms.card_raw(card_body), problems)
    context = context_of(request)
    async with context.database.read() as session:
        creating = await session.get(section.table, body["id"]) is None
        if not creating:
            await directory_pages.scoped_row(session, principal, section, body["id"])
        if entry is not None:
            for field, messages in (
                await directory_forms.reference_problems(session, section, [entry], creating=creating)
            ).items():
                for message in messages:
                    problems.add(field, message)
            for refusal in await directory_pages.scope_problems(session, principal, [entry]):
                problems.add("", refusal)
    if entry is None or problems:
        return _error("not saved", 400, problems=dict(problems))
    await directory_pages.save_entry(request, principal, section, entry, card, creating=creating)
    return JSONResponse({"saved": entry.id, "created": creating}, status_code=201 if creating else 200)


async def directory_retire(request: Request) -> Response:
    """DELETE: retire the entry (of any section) by the directory's rules;
    ``?reassign=true`` hands the alerts a volunteer holds back to escalation instead of refusing."""
    principal = await require_user(request, admin=True)
    section = _section(request)
    try:
        summary = await directory_pages.retire(
            request, principal, section, reassign=request.query_params.get("reassign") == "true"
        )
    except UserError as refused:
        return _error(str(refused), 409)
    return JSONResponse({"retired": summary.retired, "handed_back": summary.handed_back})


async def directory_erase(request: Request) -> Response:
    """POST: erase a resident or volunteer (administrators), as ``callwatch erase`` does; the body
    must repeat their id (``{"confirm": "r-2"}``), as the console has it typed."""
    principal = await require_user(request, admin=True)
    section = _section(request)
    body = await _body(request)
    entry_id = request.path_params["entry_id"]
    try:
        erased = await directory_pages.erase(request, principal, section, str(body.get("confirm", "")))
    except directory_pages.Unconfirmed:
        return _error(f'repeat the id to confirm ({{"confirm": "{entry_id}"}}); nothing was erased', 400)
    except UserError as refused:
        return _error(str(refused), 409)
    return JSONResponse({"erased": f"{erased.kind}:{erased.person_id}", "cells_overwritten": erased.cells})


async def reports(request: Request) -> Response:
    principal = await require_user(request)
    try:
        period = report_pages.period_of(request)
    except PeriodError as exc:
        return _error(str(exc), 400)
    return JSONResponse(report_data(await report_pages.scoped_report(request, principal, period)))


def _scope_json(scope: Scope) -> dict[str, object]:
    return {
        "organisation": scope.organisation,
        "areas": sorted(scope.areas) if scope.areas is not None and scope.organisation is None else None,
    }


async def users(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    async with context_of(request).database.read() as session:
        found = [user for user in await list_users(session) if principal.scope.covers(stated_scope(user))]
    return JSONResponse(
        {
            "users": [
                {
                    "name": user.name,
                    "display_name": user.display_name,
                    "role": user.role,
                    "scope": _scope_json(stated_scope(user)),
                    "language": user.language,
                    "active": user.active,
                    "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
                }
                for user in found
            ]
        }
    )


async def add_user(request: Request) -> Response:
    principal: Principal = await require_user(request, admin=True)
    context = context_of(request)
    body = await _body(request)
    try:
        role = Role(str(body.get("role", "")))
    except ValueError:
        return _error(f"role must be one of {', '.join(role.value for role in Role)}", 400, field="role")
    areas = body.get("areas")
    try:
        organisation, area_ids = user_pages.scope_asked(
            principal,
            str(body.get("organisation") or ""),
            ", ".join(str(area) for area in areas) if isinstance(areas, list) else "",
        )
    except AccountError as error:
        return _error(error.message, 400, field=error.field)
    new = NewUser(
        name=str(body.get("name", "")).strip().lower(),
        display_name=str(body.get("display_name", "")),
        role=role,
        language=str(body.get("language", "zh")),
        password=str(body.get("password", "")),
        organisation=organisation,
        areas=area_ids,
    )
    try:
        async with context.database.write() as session:
            await create_user(session, services_of(request).passwords, new, context.clock.now(), actor=principal.actor)
    except AccountError as error:
        return _error(error.message, 400, field=error.field)
    return JSONResponse({"created": new.name}, status_code=201)


def routes() -> list[BaseRoute]:
    alert_path = "/api/alerts/{alert_id:int}"
    section = "/api/directory/{section}"
    return [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/me", me, methods=["GET"]),
        Route("/api/board", board, methods=["GET"]),
        Route("/api/alerts", alerts, methods=["GET"]),
        Route(alert_path, alert, methods=["GET"]),
        Route(f"{alert_path}/ack", acknowledge, methods=["POST"]),
        Route(f"{alert_path}/escalate", escalate, methods=["POST"]),
        Route(f"{alert_path}/reassign", reassign, methods=["POST"]),
        Route(f"{alert_path}/arrived", mark_arrived, methods=["POST"]),
        Route(f"{alert_path}/notes", add_note, methods=["POST"]),
        Route(f"{alert_path}/resolve", resolve, methods=["POST"]),
        Route(f"{alert_path}/camera", camera, methods=["POST"]),
        Route(section, directory_list, methods=["GET"]),
        Route(section + "/{entry_id}", directory_entry, methods=["GET"]),
        Route(section + "/{entry_id}", directory_put, methods=["PUT"]),
        Route(section + "/{entry_id}", directory_retire, methods=["DELETE"]),
        Route(section + "/{entry_id}/erase", directory_erase, methods=["POST"]),
        Route("/api/reports", reports, methods=["GET"]),
        Route("/api/users", users, methods=["GET"]),
        Route("/api/users", add_user, methods=["POST"]),
    ]
