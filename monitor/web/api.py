"""The JSON API: list alerts, acknowledge and resolve them (Bearer token)."""

from __future__ import annotations

import hmac
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.alerts.actions import Taker
from monitor.alerts.lifecycle import AlertState, Outcome, can_transition
from monitor.alerts.views import alert_summary, list_alerts
from monitor.effects import Effects
from monitor.store.models import Alert, Volunteer
from monitor.web.context import WebContext


def _authorized(request: Request) -> bool:
    context: WebContext = request.app.state.context
    token = context.settings.web.api_token
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _unauthorized() -> Response:
    return JSONResponse(
        {"error": "a valid 'Authorization: Bearer <token>' header is required ([web] api_token)"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def alerts(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    context: WebContext = request.app.state.context
    state = request.query_params.get("state")
    if state is not None and state not in {s.value for s in AlertState}:
        return JSONResponse({"error": f"state must be one of {', '.join(s.value for s in AlertState)}"}, 400)
    async with context.database.read() as session:
        found = await list_alerts(session, state)
    return JSONResponse({"alerts": [alert_summary(alert) for alert in found]})


async def _json_body(request: Request) -> dict[str, object] | None:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def acknowledge(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    context: WebContext = request.app.state.context
    body = await _json_body(request)
    if body is None:
        return JSONResponse({"error": "body must be a JSON object"}, 400)
    effects = Effects()
    async with context.database.write() as session:
        alert = await session.get(Alert, int(request.path_params["alert_id"]), with_for_update=True)
        if alert is None:
            return JSONResponse({"error": "no such alert"}, 404)
        if not can_transition(alert, AlertState.ACKNOWLEDGED):
            return JSONResponse({"error": f"alert is {alert.state}", "alert": alert_summary(alert)}, 409)
        volunteer_id = body.get("volunteer_id")
        volunteer = await session.get(Volunteer, str(volunteer_id)) if volunteer_id else None
        if volunteer_id and volunteer is None:
            return JSONResponse({"error": f"no volunteer {volunteer_id!r}"}, 400)
        taker = (
            Taker.volunteer_taker(volunteer)
            if volunteer
            else Taker(actor="api", by="api", name=str(body.get("name") or "duty staff"))
        )
        now = context.clock.now()
        await context.actions.acknowledge(
            session,
            effects,
            alert,
            taker=taker,
            now=now,
            via="acknowledged through the API",
            confirmation_key=f"api:{alert.id}:ack",
        )
        summary = alert_summary(alert)
    await context.after_commit(effects)
    return JSONResponse({"alert": summary})


async def resolve(request: Request) -> Response:
    if not _authorized(request):
        return _unauthorized()
    context: WebContext = request.app.state.context
    body = await _json_body(request)
    if body is None:
        return JSONResponse({"error": "body must be a JSON object"}, 400)
    try:
        outcome = Outcome(str(body.get("outcome", Outcome.OTHER.value)))
    except ValueError:
        return JSONResponse({"error": f"outcome must be one of {', '.join(o.value for o in Outcome)}"}, 400)
    effects = Effects()
    async with context.database.write() as session:
        alert = await session.get(Alert, int(request.path_params["alert_id"]), with_for_update=True)
        if alert is None:
            return JSONResponse({"error": "no such alert"}, 404)
        if not can_transition(alert, AlertState.RESOLVED):
            return JSONResponse({"error": f"alert is {alert.state}; acknowledge it first"}, 409)
        await context.actions.resolve(
            session,
            effects,
            alert,
            actor="api",
            by="api",
            now=context.clock.now(),
            outcome=outcome,
            detail=str(body.get("note") or "")[:1000],
        )
        summary = alert_summary(alert)
    await context.after_commit(effects)
    return JSONResponse({"alert": summary})
