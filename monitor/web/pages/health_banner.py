"""What the degraded-service banner shows, and the page the console gives while its database is away."""

from __future__ import annotations

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.core.health import ComponentStatus, Health
from monitor.web.services import context_of, services_of

#: Errors that mean the database is away or not answering, not a bug (monitor.store.database.is_unavailable).
DATABASE_AWAY: tuple[type[Exception], ...] = (OperationalError, InterfaceError, OSError, TimeoutError)


def failing_components(health: Health) -> list[tuple[str, ComponentStatus]]:
    return [(name, status) for name, status in health.components.items() if not status.ok]


async def database_away(request: Request, exc: Exception) -> Response:
    """Any console page or API call while the database cannot be reached: 503 saying so, not a crash."""
    context = context_of(request)
    context.health.mark("database", ok=False, detail=f"{type(exc).__name__}: {exc}"[:300], reporter="ping")
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "the database is not answering; try again shortly"}, status_code=503)
    return services_of(request).renderer.render(
        request, "outage.html", None, status_code=503, failing=failing_components(context.health)
    )
