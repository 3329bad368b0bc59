"""`callwatch user ...`: console accounts from the command line (the first administrator, above all)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from monitor.core.errors import UserError
from monitor.store.database import Database
from monitor.store.models import ConsoleUser
from monitor.users import audit
from monitor.users.accounts import (
    LANGUAGES,
    AccountError,
    NewUser,
    create_user,
    find_user,
    list_users,
    set_access,
    set_password,
    set_scope,
)
from monitor.users.identity import Role
from monitor.users.passwords import Passwords
from monitor.users.scope import stated_scope
from monitor.users.tokens import issue_token

UserAction = Callable[[Database, argparse.Namespace], Awaitable[int]]


def add_user_commands(commands: Any, run: Callable[[argparse.Namespace], Any]) -> None:
    """Add ``user`` and its subcommands; ``run`` opens the database and calls the chosen action."""
    user = commands.add_parser("user", help="console accounts: add, list, change password, disable, tokens")
    actions = user.add_subparsers(title="user commands", required=True, metavar="USER_COMMAND")

    def action(name: str, handler: UserAction, help_text: str, *, needs_name: bool = True) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        parser.add_argument("--config", required=True, help="service config (TOML)")
        if needs_name:
            parser.add_argument("name", help="sign-in name")
        parser.set_defaults(command=run, user_action=handler)
        return parser

    add = action("add", _add, "add an account")
    add.add_argument("--role", choices=[role.value for role in Role], default=Role.DUTY.value)
    add.add_argument("--display-name", help="the name colleagues know the person by (default: the sign-in name)")
    add.add_argument("--language", choices=LANGUAGES, default="zh", help="interface language (default zh)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    _scope_arguments(add)
    action("list", _list, "list accounts", needs_name=False)
    passwd = action("passwd", _passwd, "set a new password (signs the user out everywhere)")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    role = action("role", _role, "change an account's role")
    role.add_argument("role", choices=[role.value for role in Role])
    scope = action("scope", _scope, "change what an account sees and acts on: an organisation, areas, or all")
    _scope_arguments(scope)
    action("disable", _disable, "deactivate an account: signs it out, revokes its tokens")
    action("enable", _enable, "reactivate an account")
    token = action("token", _token, "make an API token for an account (printed once)")
    token.add_argument("--label", default="", help="what the token is for")


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--organisation", help="sees and acts on this organisation's areas only (its id)")
    given.add_argument("--areas", help="sees and acts on these areas only (ids, separated by commas)")
    parser.epilog = "Neither --organisation nor --areas: the whole service."


def _areas(arguments: argparse.Namespace) -> tuple[str, ...] | None:
    if arguments.areas is None:
        return None
    return tuple(area.strip() for area in arguments.areas.split(",") if area.strip()) or None


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _now() -> datetime:
    return datetime.now(UTC)


def _read_password(arguments: argparse.Namespace) -> str:
    if arguments.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for the password on; pass --password-stdin and pipe it in.")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ; nothing changed.")
    return first


async def _account(session: Any, name: str) -> ConsoleUser:
    user = await find_user(session, name)
    if user is None:
        raise UserError(f"there is no account {name!r}; `callwatch user list` shows them.")
    return user


async def _add(database: Database, arguments: argparse.Namespace) -> int:
    new = NewUser(
        name=arguments.name.strip().lower(),
        display_name=arguments.display_name or arguments.name,
        role=Role(arguments.role),
        language=arguments.language,
        password=_read_password(arguments),
        organisation=arguments.organisation,
        areas=_areas(arguments),
    )
    try:
        async with database.write() as session:
            user = await create_user(session, Passwords(), new, _now(), actor=_actor())
            scope = stated_scope(user).describe()
    except AccountError as error:
        raise UserError(f"{error.field}: {error.message}.") from None
    print(f"added {new.name} ({new.role.value}, {scope})")
    return 0


async def _list(database: Database, arguments: argparse.Namespace) -> int:
    async with database.read() as session:
        users = await list_users(session)
    if not users:
        print("no accounts yet; add one with `callwatch user add NAME --role admin --config FILE`")
    for user in users:
        state = "active" if user.active else "disabled"
        seen = user.last_sign_in_at.isoformat(timespec="seconds") if user.last_sign_in_at else "never"
        print(
            f"{user.name:<20} {user.role:<6} {user.language:<3} {state:<9} last sign-in {seen}  {user.display_name}"
            f"  ({stated_scope(user).describe()})"
        )
    return 0


async def _passwd(database: Database, arguments: argparse.Namespace) -> int:
    password = _read_password(arguments)
    try:
        async with database.write() as session:
            user = await _account(session, arguments.name)
            now = _now()
            await set_password(session, Passwords(), user, password, now)
            audit.record(session, actor=_actor(), action="user_password_reset", target=f"user:{user.name}", now=now)
    except AccountError as error:
        raise UserError(f"{error.field}: {error.message}.") from None
    print(f"password of {arguments.name} changed; their sessions ended and their API tokens were revoked")
    return 0


async def _change_access(database: Database, name: str, *, role: Role | None, active: bool | None) -> ConsoleUser:
    async with database.write() as session:
        user = await _account(session, name)
        await set_access(
            session,
            user,
            role=role or Role(user.role),
            active=user.active if active is None else active,
            now=_now(),
        )
        _record_update(session, user, f"role {user.role}, {'active' if user.active else 'deactivated'}")
    return user


def _record_update(session: Any, user: ConsoleUser, detail: str) -> None:
    audit.record(session, actor=_actor(), action="user_update", target=f"user:{user.name}", now=_now(), detail=detail)


async def _role(database: Database, arguments: argparse.Namespace) -> int:
    user = await _change_access(database, arguments.name, role=Role(arguments.role), active=None)
    print(f"{user.name} is now {user.role}")
    return 0


async def _scope(database: Database, arguments: argparse.Namespace) -> int:
    try:
        async with database.write() as session:
            user = await _account(session, arguments.name)
            scope = await set_scope(session, user, arguments.organisation, _areas(arguments))
            _record_update(session, user, scope.describe())
    except AccountError as error:
        raise UserError(f"{error.field}: {error.message}.") from None
    print(f"{arguments.name} now sees {scope.describe()}")
    return 0


async def _disable(database: Database, arguments: argparse.Namespace) -> int:
    await _change_access(database, arguments.name, role=None, active=False)
    print(f"{arguments.name} disabled: signed out, API tokens revoked")
    return 0


async def _enable(database: Database, arguments: argparse.Namespace) -> int:
    await _change_access(database, arguments.name, role=None, active=True)
    print(f"{arguments.name} enabled")
    return 0


async def _token(database: Database, arguments: argparse.Namespace) -> int:
    async with database.write() as session:
        user = await _account(session, arguments.name)
        if not user.active:
            raise UserError(f"{user.name} is disabled; enable the account first.")
        row, token = await issue_token(session, user, arguments.label, _now())
        audit.record(
            session,
            actor=_actor(),
            action="token_create",
            target=f"token:{row.prefix}",
            now=_now(),
            detail=f"for user:{user.name} {row.label}",
        )
    print(token)
    return 0
