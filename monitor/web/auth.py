"""Who is asking, and whether they may: sessions, API tokens, roles and CSRF.

Every handler that changes something calls ``require_user``: for a browser session it
also demands the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``), so a page on another site cannot make a signed-in browser act. API
tokens are sent by scripts, not browsers, and need no CSRF token.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from monitor.users.identity import Principal, Role, Via
from monitor.users.scope import ALL, scope_of
from monitor.users.sessions import load_session, needs_touch, touch_session
from monitor.users.tokens import needs_touch as token_needs_touch
from monitor.users.tokens import token_user
from monitor.web.services import context_of, services_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No valid session or token."""


class NotAllowed(Exception):
    """Signed in, but the role does not allow this."""

    def __init__(self, reason: str = "An administrator account is needed for this.") -> None:
        super().__init__(reason)
        self.reason = reason


READ_ONLY = "This account can look but not change anything (role viewer)."


class CsrfRejected(Exception):
    """A state-changing browser request without the session's CSRF token."""


async def authenticate(request: Request) -> Principal | None:
    """The principal behind this request (cached on it), or None."""
    if "principal" in request.scope.setdefault("state", {}):
        cached: Principal | None = request.scope["state"]["principal"]
        return cached
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        principal = await _from_token(request, authorization.removeprefix("Bearer ").strip())
    else:
        principal = await _from_session(request)
    request.scope["state"]["principal"] = principal
    return principal


async def _from_token(request: Request, token: str) -> Principal | None:
    context = context_of(request)
    shared = context.settings.web.api_token
    if shared and hmac.compare_digest(token.encode(), shared.encode()):
        return Principal(
            user_id=None, name="api", display_name="API", role=Role.DUTY, language="en", via=Via.SHARED_TOKEN
        )
    now = context.clock.now()
    async with context.database.read() as session:
        found = await token_user(session, token, now)
        scope = await scope_of(session, found[1]) if found is not None else ALL
    if found is None:
        return None
    row, user = found
    if token_needs_touch(row, now):
        async with context.database.write() as session:
            token_row = await session.get(type(row), row.id)
            if token_row is not None:
                token_row.last_used_at = now
    return Principal.of_user(user, Via.TOKEN, scope)


async def _from_session(request: Request) -> Principal | None:
    secret = request.cookies.get(services_of(request).cookies.session)
    if not secret:
        return None
    return await principal_for_secret(request, secret)


async def principal_for_secret(request: Request, secret: str) -> Principal | None:
    """The session principal for a cookie secret (also used to re-check a long-lived stream)."""
    context = context_of(request)
    now = context.clock.now()
    async with context.database.read() as session:
        found = await load_session(session, secret, now)
        scope = await scope_of(session, found[1]) if found is not None else ALL
    if found is None:
        return None
    row, user = found
    if needs_touch(row, now):
        async with context.database.write() as session:
            await touch_session(session, row.id, now)
    return Principal.of_user(user, Via.SESSION, scope, csrf_token=row.csrf_token, session_id=row.id)


async def require_user(request: Request, *, admin: bool = False, own_account: bool = False) -> Principal:
    """The principal, checked: signed in, allowed, and (for unsafe browser requests) CSRF-proof.
    A viewer's unsafe request is refused here, for every handler, unless it is about their own
    account (``own_account``: their password, tokens, signing out)."""
    principal = await authenticate(request)
    if principal is None:
        raise SignInRequired
    if principal.via is Via.SHARED_TOKEN and not request.url.path.startswith("/api/"):
        raise SignInRequired
    if request.method not in SAFE_METHODS and principal.via is Via.SESSION:
        await _check_csrf(request, principal)
    if request.method not in SAFE_METHODS and not principal.can_change and not own_account:
        raise NotAllowed(READ_ONLY)
    if admin and not principal.is_admin:
        raise NotAllowed
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else None
    expected = principal.csrf_token or ""
    if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRejected
