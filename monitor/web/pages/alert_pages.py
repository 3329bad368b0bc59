"""The alert page and its actions: acknowledge (for oneself or on behalf of a volunteer),
escalate now (a taken alert too), reassign to a named volunteer, mark arrived on someone's
behalf, add a note, resolve with an outcome, open the camera (during an urgent alert, recorded)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.actions.console import ActionRefused, camera_refusal
from monitor.alerts.lifecycle import Outcome
from monitor.users.identity import Principal
from monitor.web.auth import require_user
from monitor.web.pages import alert_ops
from monitor.web.pages.alert_detail import load_alert_detail
from monitor.web.pages.camera_pages import NoCamera, issue_camera_link
from monitor.web.refusals import PageNotFound
from monitor.web.services import context_of, services_of


async def _page(
    request: Request, principal: Principal, alert_id: int, *, error: str | None = None, status_code: int = 200
) -> Response:
    context = context_of(request)
    async with context.database.read() as session:
        detail = await load_alert_detail(session, alert_id, context.clock.now(), principal.scope)
    if detail is None:
        raise PageNotFound
    web = context.settings.web
    return services_of(request).renderer.render(
        request,
        "alert.html",
        principal,
        status_code=status_code,
        detail=detail,
        camera_open=camera_refusal(detail.alert) is None,
        outcomes=[outcome.value for outcome in Outcome],
        error=error,
        done=request.query_params.get("done"),
        tile_url=web.map_tile_url,
        attribution=web.map_attribution,
        map_link=context.settings.service.map_url_template,
    )


async def alert_page(request: Request) -> Response:
    principal = await require_user(request)
    return await _page(request, principal, int(request.path_params["alert_id"]))


async def _run(request: Request, action: alert_ops.Action, done: str) -> Response:
    principal = await require_user(request)
    alert_id = int(request.path_params["alert_id"])
    try:
        await alert_ops.act(request, principal, alert_id, action)
    except alert_ops.AlertMissing:
        raise PageNotFound from None
    except ActionRefused as refused:
        return await _page(request, principal, alert_id, error=str(refused), status_code=409)
    return RedirectResponse(f"/alerts/{alert_id}?done={done}", status_code=303)


async def acknowledge(request: Request) -> Response:
    form = await request.form()
    volunteer_id = str(form.get("volunteer_id", "")).strip() or None
    return await _run(request, alert_ops.acknowledge(volunteer_id), "acknowledged")


async def escalate(request: Request) -> Response:
    form = await request.form()
    return await _run(request, alert_ops.escalate(str(form.get("reason", ""))), "escalated")


async def reassign(request: Request) -> Response:
    form = await request.form()
    action = alert_ops.reassign(str(form.get("volunteer_id", "")).strip(), str(form.get("reason", "")))
    return await _run(request, action, "reassigned")


async def mark_arrived(request: Request) -> Response:
    form = await request.form()
    volunteer_id = str(form.get("volunteer_id", "")).strip() or None
    return await _run(request, alert_ops.mark_arrived(str(form.get("reason", "")), volunteer_id), "arrived")


async def add_note(request: Request) -> Response:
    form = await request.form()
    return await _run(request, alert_ops.note(str(form.get("note", ""))), "noted")


async def resolve(request: Request) -> Response:
    form = await request.form()
    try:
        outcome = alert_ops.parse_outcome(form.get("outcome", ""))
    except ActionRefused as refused:
        principal = await require_user(request)
        return await _page(
            request, principal, int(request.path_params["alert_id"]), error=str(refused), status_code=400
        )
    return await _run(request, alert_ops.resolve(outcome, str(form.get("note", ""))), "resolved")


async def open_camera(request: Request) -> Response:
    """Send the browser to the camera through a one-use link (only where the resident consented,
    during an urgent alert in hand); following the link records the view. A page that refreshes
    to the link, not a redirect: CSP's form-action would stop the form's navigation at the
    camera's site."""
    principal = await require_user(request)
    alert_id = int(request.path_params["alert_id"])
    try:
        link, _ = await issue_camera_link(request, principal, alert_id)
    except (alert_ops.AlertMissing, NoCamera):
        raise PageNotFound from None
    except ActionRefused as refused:
        return await _page(request, principal, alert_id, error=str(refused), status_code=409)
    return services_of(request).renderer.render(request, "camera_opening.html", principal, link=link)
