"""Account management for administrators, and the console's audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.users import audit
from monitor.users.accounts import (
    AccountError,
    NewUser,
    count_active_admins,
    create_user,
    find_user,
    list_users,
    set_access,
    set_password,
    set_profile,
)
from monitor.users.identity import Role
from monitor.web.auth import NotAllowed, require_user
from monitor.web.refusals import PageNotFound
from monitor.web.services import context_of, services_of


async def list_page(
    request: Request,
    *,
    problems: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = await require_user(request, admin=True)
    async with context_of(request).database.read() as session:
        users = await list_users(session)
    return services_of(request).renderer.render(
        request,
        "users.html",
        principal,
        status_code=status_code,
        users=users,
        roles=[role.value for role in Role],
        problems=problems or {},
        values=values or {"role": Role.DUTY.value, "language": "zh"},
        saved=request.query_params.get("saved"),
    )


async def create(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    context = context_of(request)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("name", "display_name", "role", "language")}
    try:
        role = Role(values["role"])
    except ValueError:
        return await list_page(request, problems={"role": "choose a role"}, values=values, status_code=400)
    new = NewUser(
        name=values["name"].strip().lower(),
        display_name=values["display_name"],
        role=role,
        language=values["language"],
        password=str(form.get("password", "")),
    )
    try:
        async with context.database.write() as session:
            await create_user(session, services_of(request).passwords, new, context.clock.now(), actor=principal.actor)
    except AccountError as error:
        return await list_page(request, problems={error.field: error.message}, values=values, status_code=400)
    return RedirectResponse(f"/users?saved={new.name}", status_code=303)


async def edit_page(request: Request, *, problems: dict[str, str] | None = None, status_code: int = 200) -> Response:
    principal = await require_user(request, admin=True)
    async with context_of(request).database.read() as session:
        user = await find_user(session, request.path_params["name"])
    if user is None:
        raise PageNotFound
    return services_of(request).renderer.render(
        request,
        "user_form.html",
        principal,
        status_code=status_code,
        account=user,
        roles=[role.value for role in Role],
        problems=problems or {},
        saved=request.query_params.get("saved"),
    )


async def update(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    context = context_of(request)
    form = await request.form()
    now = context.clock.now()
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return await edit_page(request, problems={"role": "choose a role"}, status_code=400)
    active = form.get("active") == "on"
    try:
        async with context.database.write() as session:
            user = await find_user(session, request.path_params["name"])
            if user is None:
                raise PageNotFound
            set_profile(user, display_name=str(form.get("display_name", "")), language=str(form.get("language", "")))
            losing_admin = user.role == Role.ADMIN and (role is not Role.ADMIN or not active)
            if losing_admin and user.active and await count_active_admins(session) <= 1:
                raise AccountError("role", "this is the last active administrator; make another one first")
            await set_access(session, user, role=role, active=active, now=now)
            audit.record(
                session,
                actor=principal.actor,
                action="user_update",
                target=f"user:{user.name}",
                now=now,
                detail=f"role {role.value}, {'active' if active else 'deactivated'}, language {user.language}",
            )
    except AccountError as error:
        return await edit_page(request, problems={error.field: error.message}, status_code=400)
    return RedirectResponse(f"/users/{request.path_params['name']}?saved=1", status_code=303)


async def reset_password(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    context = context_of(request)
    form = await request.form()
    try:
        async with context.database.write() as session:
            user = await find_user(session, request.path_params["name"])
            if user is None:
                raise PageNotFound
            now = context.clock.now()
            await set_password(session, services_of(request).passwords, user, str(form.get("password", "")), now)
            audit.record(
                session, actor=principal.actor, action="user_password_reset", target=f"user:{user.name}", now=now
            )
    except AccountError as error:
        return await edit_page(request, problems={error.field: error.message}, status_code=400)
    return RedirectResponse(f"/users/{request.path_params['name']}?saved=1", status_code=303)


async def audit_page(request: Request) -> Response:
    principal = await require_user(request)
    if not principal.reads_audit:
        raise NotAllowed
    async with context_of(request).database.read() as session:
        entries = await audit.recent(session)
    return services_of(request).renderer.render(request, "audit.html", principal, entries=entries)
