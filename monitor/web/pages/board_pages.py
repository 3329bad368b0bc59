"""The live alert board: the page, the fragment it refreshes from, and its event stream."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from monitor.users.identity import Principal, Via
from monitor.users.scope import visible_alert_ids
from monitor.web.auth import principal_for_secret, require_user
from monitor.web.pages.board_data import Board, load_board
from monitor.web.pages.health_banner import failing_components
from monitor.web.services import context_of, services_of


async def _board(request: Request, principal: Principal) -> Board:
    context = context_of(request)
    async with context.database.read() as session:
        return await load_board(session, context.clock.now(), principal.scope)


async def board_page(request: Request) -> Response:
    principal = await require_user(request)
    board = await _board(request, principal)
    failing = failing_components(context_of(request).health)
    return services_of(request).renderer.render(request, "board.html", principal, board=board, failing=failing)


async def board_rows(request: Request) -> Response:
    """The board's live part, fetched by the page whenever the event stream says something changed."""
    principal = await require_user(request)
    board = await _board(request, principal)
    html = services_of(request).renderer.render_fragment("board_rows.html", principal.language, board=board)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def board_events(request: Request) -> Response:
    principal = await require_user(request)
    services = services_of(request)
    secret = request.cookies.get(services.cookies.session, "")

    async def still_allowed() -> bool:
        if principal.via is not Via.SESSION:
            return True
        current = await principal_for_secret(request, secret)
        # a changed scope ends the stream too: the console comes back seeing what the account sees now
        return current is not None and current.scope == principal.scope

    context = context_of(request)

    async def visible(alert_ids: set[int]) -> set[int]:
        async with context.database.read() as session:
            return await visible_alert_ids(session, principal.scope, alert_ids)

    stream = services.streams.events(context.changes, still_allowed, visible)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
