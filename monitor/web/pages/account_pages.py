"""A user's own account: interface language, password, and personal API tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.store.models import ConsoleUser
from monitor.users import audit
from monitor.users.accounts import AccountError, set_password, set_profile
from monitor.users.identity import Principal
from monitor.users.tokens import issue_token, revoke_token, user_tokens
from monitor.web.auth import SignInRequired, require_user
from monitor.web.password_tries import TooManyTries, attempt_of, check_password
from monitor.web.services import context_of, services_of

TOO_MANY_TRIES = "too many wrong passwords; wait a few minutes and try again"


def _own_account(principal: Principal) -> int:
    if principal.user_id is None:  # the shared API token has no account
        raise SignInRequired
    return principal.user_id


async def account_page(
    request: Request, *, problems: dict[str, str] | None = None, new_token: str | None = None, status_code: int = 200
) -> Response:
    principal = await require_user(request, own_account=True)
    user_id = _own_account(principal)
    async with context_of(request).database.read() as session:
        account = await session.get(ConsoleUser, user_id)
        tokens = await user_tokens(session, user_id)
    return services_of(request).renderer.render(
        request,
        "account.html",
        principal,
        status_code=status_code,
        language=account.language if account else None,
        account=account,
        tokens=tokens,
        problems=problems or {},
        new_token=new_token,
        saved=request.query_params.get("saved"),
    )


async def update_profile(request: Request) -> Response:
    principal = await require_user(request, own_account=True)
    context = context_of(request)
    form = await request.form()
    try:
        async with context.database.write() as session:
            account = await session.get(ConsoleUser, _own_account(principal))
            assert account is not None
            set_profile(account, display_name=str(form.get("display_name", "")), language=str(form.get("language", "")))
            audit.record(
                session,
                actor=principal.actor,
                action="profile_update",
                target=principal.actor,
                now=context.clock.now(),
                detail=f"language {account.language}",
            )
    except AccountError as error:
        return await account_page(request, problems={error.field: error.message}, status_code=400)
    return RedirectResponse("/account?saved=profile", status_code=303)


async def _current_password_problem(
    request: Request, principal: Principal, account: ConsoleUser, field: str
) -> Response | None:
    """The account page with a problem beside ``field`` unless the form's current password is right
    (tried under the same throttle as sign-in: a stolen session cannot guess it)."""
    form = await request.form()
    try:
        verdict = await check_password(
            request, attempt_of(request, principal.name), account.password_hash, str(form.get(field, ""))
        )
    except TooManyTries:
        return await account_page(request, problems={field: TOO_MANY_TRIES}, status_code=429)
    if not verdict.ok:
        return await account_page(request, problems={field: "this is not your current password"}, status_code=400)
    return None


async def change_password(request: Request) -> Response:
    principal = await require_user(request, own_account=True)
    context = context_of(request)
    services = services_of(request)
    form = await request.form()
    async with context.database.read() as session:
        account = await session.get(ConsoleUser, _own_account(principal))
    assert account is not None
    refused = await _current_password_problem(request, principal, account, "current")
    if refused is not None:
        return refused
    try:
        async with context.database.write() as session:
            fresh = await session.get(ConsoleUser, account.id)
            assert fresh is not None
            now = context.clock.now()
            await set_password(session, services.passwords, fresh, str(form.get("password", "")), now)
            audit.record(session, actor=principal.actor, action="password_change", target=principal.actor, now=now)
    except AccountError as error:
        return await account_page(request, problems={error.field: error.message}, status_code=400)
    # Signed out everywhere, this session too, and every API token revoked: sign in with the new one.
    return RedirectResponse("/login", status_code=303)


async def create_token(request: Request) -> Response:
    """A token acts as its user until revoked: only for someone who knows the user's password."""
    principal = await require_user(request, own_account=True)
    context = context_of(request)
    form = await request.form()
    async with context.database.read() as session:
        account = await session.get(ConsoleUser, _own_account(principal))
    assert account is not None
    refused = await _current_password_problem(request, principal, account, "token_current")
    if refused is not None:
        return refused
    async with context.database.write() as session:
        fresh = await session.get(ConsoleUser, account.id)
        assert fresh is not None
        row, token = await issue_token(session, fresh, str(form.get("label", "")), context.clock.now())
        audit.record(
            session,
            actor=principal.actor,
            action="token_create",
            target=f"token:{row.prefix}",
            now=context.clock.now(),
            detail=row.label,
        )
    return await account_page(request, new_token=token)


async def revoke(request: Request) -> Response:
    principal = await require_user(request, own_account=True)
    context = context_of(request)
    token_id = int(request.path_params["token_id"])
    async with context.database.write() as session:
        if await revoke_token(session, _own_account(principal), token_id, context.clock.now()):
            audit.record(
                session,
                actor=principal.actor,
                action="token_revoke",
                target=f"token:{token_id}",
                now=context.clock.now(),
            )
    return RedirectResponse("/account?saved=token", status_code=303)
