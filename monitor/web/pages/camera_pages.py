"""Opening a resident's camera: only during an urgent alert in hand, through a one-use link,
and on record every time.

The alert page's button (and ``POST /api/alerts/{id}/camera``) asks for a link
(``monitor.users.camera_links``); following it (``GET /camera/<secret>``) records the view in
the alert's log and the console audit, then redirects to the camera. The camera's address
never leaves the server except in that one redirect, so nobody can keep it and look later
without a record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.actions.console import ActionRefused, ConsoleUserRef, camera_refusal
from monitor.core.effects import Effects, commit_then_apply
from monitor.store.models import Alert
from monitor.users import audit
from monitor.users.camera_links import issue_link, use_link
from monitor.users.identity import Principal
from monitor.users.scope import alert_in_scope
from monitor.web.pages.alert_detail import consented_camera
from monitor.web.pages.alert_ops import AlertMissing
from monitor.web.refusals import CameraClosed
from monitor.web.services import context_of, services_of

CAMERA_PATH = "/camera/"


class NoCamera(Exception):
    """The alert's resident has no camera, or did not consent to views."""


async def issue_camera_link(request: Request, principal: Principal, alert_id: int) -> tuple[str, datetime]:
    """A one-use link (path and expiry) to the camera of the alert's resident.

    ``AlertMissing``, ``NoCamera``, or ``ActionRefused`` when the alert does not allow a look now."""
    context = context_of(request)
    now = context.clock.now()
    async with context.database.write() as session:
        alert = await alert_in_scope(session, principal.scope, alert_id)
        if alert is None:
            raise AlertMissing
        if await consented_camera(session, alert_id) is None:
            raise NoCamera
        refusal = camera_refusal(alert)
        if refusal is not None:
            raise ActionRefused(refusal)
        secret, expires_at = await issue_link(
            session, alert_id, actor=principal.actor, display_name=principal.display_name, now=now
        )
    return CAMERA_PATH + secret, expires_at


async def follow_camera_link(request: Request) -> Response:
    """Spend the link, record the view, and send the browser on to the camera."""
    context = context_of(request)
    actions = services_of(request).actions
    now = context.clock.now()

    async def work(session: AsyncSession, effects: Effects) -> str | None:
        link = await use_link(session, request.path_params["secret"], now)
        if link is None:
            return None
        alert = await session.get(Alert, link.alert_id, with_for_update=True)
        url = await consented_camera(session, link.alert_id)
        if alert is None or url is None:
            return None
        user = ConsoleUserRef(actor=link.actor, name=link.display_name)
        await actions.record_camera_view(session, effects, alert, user=user, now=now)
        audit.record(
            session,
            actor=link.actor,
            action="camera_view",
            target=f"resident:{alert.resident_id}",
            now=now,
            detail=f"alert {alert.id} ({alert.kind}, {alert.state})",
        )
        return url

    try:
        url = await commit_then_apply(context.database, context.after_commit, work)
    except ActionRefused:
        raise CameraClosed(409) from None
    if url is None:
        raise CameraClosed(410)
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
