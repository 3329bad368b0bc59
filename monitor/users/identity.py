"""Who is acting: a signed-in console user, a user's API token, or the legacy shared API token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from monitor.store.models import ConsoleUser
from monitor.users.scope import ALL, Scope


class Role(StrEnum):
    DUTY = "duty"  # duty staff: watch the board, act on alerts, read the directory and reports
    ADMIN = "admin"  # administrators: also edit the directory and manage accounts
    VIEWER = "viewer"  # managers and auditors: see everything duty staff and the audit log show, change nothing


class Via(StrEnum):
    SESSION = "session"  # a browser with a session cookie: unsafe requests need the CSRF token
    TOKEN = "token"  # noqa: S105 - a name, not a secret; a user's API token (Authorization: Bearer)
    SHARED_TOKEN = "shared_token"  # noqa: S105 - a name; [web] api_token, kept for scripts written before per-user tokens


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    name: str
    display_name: str
    role: Role
    language: str
    via: Via
    #: the session's CSRF token (sessions only)
    csrf_token: str | None = None
    #: the session id digest (sessions only), to re-check a long-lived stream
    session_id: str | None = None
    #: what they see and act on (``monitor.users.scope``); tokens carry their user's
    scope: Scope = ALL

    @classmethod
    def of_user(
        cls,
        user: ConsoleUser,
        via: Via,
        scope: Scope,
        *,
        csrf_token: str | None = None,
        session_id: str | None = None,
    ) -> Principal:
        """A console user acting through a session or one of their tokens."""
        return cls(
            user_id=user.id,
            name=user.name,
            display_name=user.display_name,
            role=Role(user.role),
            language=user.language,
            via=via,
            csrf_token=csrf_token,
            session_id=session_id,
            scope=scope,
        )

    @property
    def actor(self) -> str:
        """The audit log's name for this principal."""
        return "api" if self.via is Via.SHARED_TOKEN else f"user:{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_change(self) -> bool:
        """A viewer only looks: no alert action, no edit (their own password and tokens aside)."""
        return self.role is not Role.VIEWER

    @property
    def reads_audit(self) -> bool:
        return self.role in (Role.ADMIN, Role.VIEWER)
