"""Refusals as responses: an HTML page for the console, JSON for the API (paths under /api/)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from monitor.web.auth import SAFE_METHODS, CsrfRejected, NotAllowed, SignInRequired, authenticate
from monitor.web.services import services_of


class PageNotFound(Exception):
    """The alert, resident or user asked for does not exist."""


class CameraClosed(Exception):
    """A camera link that was used, expired, or is for an alert that no longer allows a look."""

    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _page(request: Request, status_code: int, title: str, message: str) -> Response:
    principal = await authenticate(request)
    return services_of(request).renderer.render(
        request, "error.html", principal, status_code=status_code, title=title, message=message
    )


async def sign_in_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"error": "sign in, or send 'Authorization: Bearer <token>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method in SAFE_METHODS:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return await _page(
        request, 401, "Sign in first", "Your session has ended. Sign in again, then repeat what you did."
    )


async def not_allowed(request: Request, exc: Exception) -> Response:
    reason = exc.reason if isinstance(exc, NotAllowed) else "An administrator account is needed for this."
    if _is_api(request):
        return JSONResponse({"error": reason}, status_code=403)
    return await _page(request, 403, "Not allowed", reason)


async def csrf_rejected(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "missing or wrong X-CSRF-Token header"}, status_code=403)
    return await _page(
        request,
        403,
        "Refused",
        "This form was out of date or did not come from this console. Reload the page and try again.",
    )


async def not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"error": "not found"}, status_code=404)
    return await _page(request, 404, "Not found", "There is nothing at this address.")


async def camera_closed(request: Request, exc: Exception) -> Response:
    status_code = exc.status_code if isinstance(exc, CameraClosed) else 410
    return await _page(
        request,
        status_code,
        "The camera is closed",
        "A camera link works once, for a minute, while an SOS, a fall or a missed check-in is being "
        "handled. Open the camera again from the alert.",
    )


class BadRequest(Exception):
    """An API request whose body is not what the endpoint takes: a 400 saying why, in JSON."""


async def bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


HANDLERS = {
    BadRequest: bad_request,
    SignInRequired: sign_in_required,
    NotAllowed: not_allowed,
    CsrfRejected: csrf_rejected,
    PageNotFound: not_found,
    CameraClosed: camera_closed,
}
