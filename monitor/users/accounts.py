"""Console accounts: create, change and list users; every rule in one place for the CLI, console and API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.models import ApiToken, ConsoleSession, ConsoleUser
from monitor.users import audit
from monitor.users.browsers import forget_browsers
from monitor.users.identity import Role
from monitor.users.passwords import Passwords, password_problem
from monitor.users.scope import Scope, ScopeError, apply_scope, check_scope

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
LANGUAGES = ("zh", "en")


class AccountError(ValueError):
    """A value an account cannot take, naming the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class NewUser:
    name: str
    display_name: str
    role: Role
    language: str
    password: str
    #: the scope (``monitor.users.scope``): one organisation, or these areas; neither: the whole service
    organisation: str | None = None
    areas: tuple[str, ...] | None = None


def check_new_user(new: NewUser) -> list[AccountError]:
    problems = []
    if not USER_NAME.match(new.name):
        problems.append(
            AccountError("name", "use 2-64 lower-case letters, digits and _ . -, starting with a letter or digit")
        )
    if not new.display_name.strip() or len(new.display_name) > 200:
        problems.append(
            AccountError("display_name", "give the name colleagues know this person by (at most 200 characters)")
        )
    if new.language not in LANGUAGES:
        problems.append(AccountError("language", "must be zh or en"))
    problem = password_problem(new.password)
    if problem:
        problems.append(AccountError("password", problem))
    return problems


async def create_user(
    session: AsyncSession, passwords: Passwords, new: NewUser, now: datetime, *, actor: str
) -> ConsoleUser:
    """Add an account, on record as done by ``actor``; ``AccountError`` when a field is wrong or the name is taken."""
    problems = check_new_user(new)
    if problems:
        raise problems[0]
    if await find_user(session, new.name) is not None:
        raise AccountError("name", f"{new.name!r} is already taken")
    scope = await _checked_scope(session, new.organisation, new.areas)
    user = ConsoleUser(
        name=new.name,
        display_name=new.display_name.strip(),
        password_hash=passwords.hash(new.password),
        role=new.role.value,
        language=new.language,
        active=True,
        created_at=now,
    )
    apply_scope(user, scope)
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="user_create",
        target=f"user:{user.name}",
        now=now,
        detail=f"role {user.role}, {scope.describe()}",
    )
    return user


async def set_scope(
    session: AsyncSession, user: ConsoleUser, organisation: str | None, areas: Sequence[str] | None
) -> Scope:
    """Give the account a new scope (checked against the directory); ``AccountError`` otherwise."""
    scope = await _checked_scope(session, organisation, areas)
    apply_scope(user, scope)
    return scope


async def _checked_scope(session: AsyncSession, organisation: str | None, areas: Sequence[str] | None) -> Scope:
    try:
        return await check_scope(session, organisation, areas)
    except ScopeError as error:
        raise AccountError("scope", str(error)) from None


async def find_user(session: AsyncSession, name: str) -> ConsoleUser | None:
    return await session.scalar(select(ConsoleUser).where(ConsoleUser.name == name.strip().lower()))


async def list_users(session: AsyncSession) -> Sequence[ConsoleUser]:
    return (await session.scalars(select(ConsoleUser).order_by(ConsoleUser.name))).all()


async def set_password(
    session: AsyncSession, passwords: Passwords, user: ConsoleUser, password: str, now: datetime
) -> None:
    """A new password (changed or reset) signs the user out everywhere: whoever had the old one
    loses its sessions, API tokens and known browsers."""
    problem = password_problem(password)
    if problem:
        raise AccountError("password", problem)
    user.password_hash = passwords.hash(password)
    await sign_out_everywhere(session, user, now)


def set_profile(user: ConsoleUser, *, display_name: str, language: str) -> None:
    if not display_name.strip() or len(display_name) > 200:
        raise AccountError("display_name", "give the name colleagues know this person by (at most 200 characters)")
    if language not in LANGUAGES:
        raise AccountError("language", "must be zh or en")
    user.display_name = display_name.strip()
    user.language = language


async def set_access(session: AsyncSession, user: ConsoleUser, *, role: Role, active: bool, now: datetime) -> None:
    """Change role or (de)activate; deactivating signs the user out everywhere."""
    user.role = role.value
    user.active = active
    if not active:
        await sign_out_everywhere(session, user, now)


async def sign_out_everywhere(session: AsyncSession, user: ConsoleUser, now: datetime) -> None:
    """End the user's sessions, revoke their API tokens and forget the browsers they signed in from."""
    await session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    await session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    await forget_browsers(session, user.id)


async def count_active_admins(session: AsyncSession) -> int:
    admins = await session.scalars(
        select(ConsoleUser.id).where(ConsoleUser.role == Role.ADMIN.value, ConsoleUser.active.is_(True))
    )
    return len(admins.all())
