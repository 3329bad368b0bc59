"""Signing in and out.

The sign-in form carries a token that must match a short-lived cookie (a double-submit
CSRF token: there is no session yet to hold one). Tries are throttled
(``monitor.web.password_tries``); a browser that signed in gets a known-browser cookie, so
that strangers' failures for the same name never hold it back.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.users.accounts import find_user
from monitor.users.browsers import remember_browser
from monitor.users.sessions import IDLE, end_session, start_session
from monitor.web.auth import authenticate, require_user
from monitor.web.password_tries import TooManyTries, attempt_of, check_password
from monitor.web.rendering import language_of
from monitor.web.services import context_of, services_of

SIGN_IN_FORM_S = 3600
#: A browser stays known this long after its last sign-in (browsers keep a cookie 400 days at most).
KNOWN_BROWSER_S = 400 * 24 * 3600


def _safe_next(target: str | None) -> str:
    """Only paths on this site: never an absolute URL an attacker chose."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _form_page(
    request: Request,
    *,
    error: str | None = None,
    error_values: dict[str, object] | None = None,
    status_code: int = 200,
    name: str = "",
) -> Response:
    services = services_of(request)
    token = secrets.token_urlsafe(24)
    response = services.renderer.render(
        request,
        "login.html",
        None,
        status_code=status_code,
        sign_in_token=token,
        error=error,
        error_values=error_values or {},
        name=name,
        next=_safe_next(request.query_params.get("next") or None),
    )
    response.set_cookie(
        services.cookies.sign_in,
        token,
        max_age=SIGN_IN_FORM_S,
        path="/",
        secure=services.cookies.secure,
        httponly=True,
        samesite="strict",
    )
    return response


async def sign_in_page(request: Request) -> Response:
    if await authenticate(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _form_page(request)


async def sign_in(request: Request) -> Response:
    context = context_of(request)
    services = services_of(request)
    form = await request.form()
    name = str(form.get("name", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    expected = request.cookies.get(services.cookies.sign_in, "")
    given = str(form.get("sign_in_token", ""))
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return _form_page(request, error="The sign-in form had expired; please try again.", status_code=403, name=name)
    async with context.database.read() as session:
        user = await find_user(session, name) if name else None
    stored = user.password_hash if user is not None and user.active else None
    try:
        verdict = await check_password(request, attempt_of(request, name or "-"), stored, password)
    except TooManyTries as refused:
        response = _form_page(
            request,
            error="Too many failed sign-ins. Try again in {seconds} s, or ask an administrator.",
            error_values={"seconds": refused.seconds},
            status_code=429,
            name=name,
        )
        response.headers["Retry-After"] = str(refused.seconds)
        return response
    if not verdict.ok or user is None:
        return _form_page(request, error="Wrong name or password.", status_code=401, name=name)
    now = context.clock.now()
    async with context.database.write() as session:
        account = await session.get(type(user), user.id)
        assert account is not None
        if verdict.new_hash:
            account.password_hash = verdict.new_hash
        started = await start_session(session, account, now)
        browser = await remember_browser(session, account.id, request.cookies.get(services.cookies.known_browser), now)
    response = RedirectResponse(_safe_next(str(form.get("next", "")) or None), status_code=303)
    for cookie, value, max_age in (
        (services.cookies.session, started.secret, int(IDLE.total_seconds())),
        (services.cookies.known_browser, browser, KNOWN_BROWSER_S),
    ):
        response.set_cookie(
            cookie, value, max_age=max_age, path="/", secure=services.cookies.secure, httponly=True, samesite="strict"
        )
    response.delete_cookie(services.cookies.sign_in, path="/", secure=services.cookies.secure, httponly=True)
    return response


async def sign_out(request: Request) -> Response:
    await require_user(request, own_account=True)
    services = services_of(request)
    context = context_of(request)
    secret = request.cookies.get(services.cookies.session, "")
    async with context.database.write() as session:
        await end_session(session, secret)
    response = RedirectResponse(f"/login?lang={language_of(request)}", status_code=303)
    response.delete_cookie(
        services.cookies.session, path="/", secure=services.cookies.secure, httponly=True, samesite="strict"
    )
    return response
