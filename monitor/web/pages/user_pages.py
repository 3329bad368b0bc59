"""Account management for administrators, and the console's audit log.

An administrator of an organisation or a list of areas sees and manages only the accounts
whose scope lies within theirs (``Scope.covers``), and gives only such scopes; any other
account is not there (404)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor.store.models import ConsoleUser
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
    set_scope,
)
from monitor.users.identity import Principal, Role
from monitor.users.scope import Scope, stated_scope
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
        users = [user for user in await list_users(session) if principal.scope.covers(stated_scope(user))]
    return services_of(request).renderer.render(
        request,
        "users.html",
        principal,
        status_code=status_code,
        users=users,
        scopes={user.name: stated_scope(user).describe() for user in users},
        roles=[role.value for role in Role],
        problems=problems or {},
        values=values or {"role": Role.DUTY.value, "language": "zh"},
        saved=request.query_params.get("saved"),
    )


async def create(request: Request) -> Response:
    principal = await require_user(request, admin=True)
    context = context_of(request)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("name", "display_name", "role", "language", *SCOPE_FIELDS)}
    try:
        role = Role(values["role"])
    except ValueError:
        return await list_page(request, problems={"role": "choose a role"}, values=values, status_code=400)
    try:
        organisation, areas = scope_asked(principal, values["organisation"], values["areas"])
    except AccountError as error:
        return await list_page(request, problems={error.field: error.message}, values=values, status_code=400)
    new = NewUser(
        name=values["name"].strip().lower(),
        display_name=values["display_name"],
        role=role,
        language=values["language"],
        password=str(form.get("password", "")),
        organisation=organisation,
        areas=areas,
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
        user = await account_in_scope(session, principal, request.path_params["name"])
    stated = stated_scope(user)
    return services_of(request).renderer.render(
        request,
        "user_form.html",
        principal,
        status_code=status_code,
        account=user,
        scope_values={
            "organisation": stated.organisation or "",
            "areas": ", ".join(sorted(stated.areas)) if stated.areas and stated.organisation is None else "",
        },
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
        organisation, areas = scope_asked(principal, str(form.get("organisation", "")), str(form.get("areas", "")))
        async with context.database.write() as session:
            user = await account_in_scope(session, principal, request.path_params["name"])
            scope = await set_scope(session, user, organisation, areas)
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
                detail=f"role {role.value}, {scope.describe()}, {'active' if active else 'deactivated'}, "
                f"language {user.language}",
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
            user = await account_in_scope(session, principal, request.path_params["name"])
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
        names = [user.name for user in await list_users(session) if principal.scope.covers(stated_scope(user))]
        entries = await audit.recent(session, principal.scope.audit(names))
    return services_of(request).renderer.render(request, "audit.html", principal, entries=entries)


SCOPE_FIELDS = ("organisation", "areas")


async def account_in_scope(session: AsyncSession, principal: Principal, name: str) -> ConsoleUser:
    """The account called ``name`` when the asker's scope covers it; ``PageNotFound`` otherwise."""
    user = await find_user(session, name)
    if user is None or not principal.scope.covers(stated_scope(user)):
        raise PageNotFound
    return user


def scope_asked(principal: Principal, organisation: str, areas: str) -> tuple[str | None, tuple[str, ...] | None]:
    """The scope a form or request asks to give an account, as an organisation or area ids: left
    empty, the asker's own; ``AccountError`` when it reaches beyond the asker's."""
    owner = organisation.strip() or None
    area_ids = tuple(area for area in (part.strip() for part in areas.split(",")) if area) or None
    mine = principal.scope
    if owner is None and area_ids is None and not mine.service_wide:
        owner = mine.organisation
        area_ids = tuple(sorted(mine.areas or ())) if owner is None else None
    asked = Scope(organisation=owner, areas=frozenset(area_ids or ()) if owner or area_ids else None)
    if not mine.covers(asked):
        raise AccountError("scope", f"you can give only a scope within yours ({mine.describe()})")
    return owner, area_ids
