"""Tables the duty console adds: accounts, sessions, API tokens, sign-in attempts, the console's
audit log and residents' care cards. Migration ``0002_console`` creates them.

Session ids and API tokens are stored only as SHA-256 digests, so a copy of the database
does not let anyone sign in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.models import Base


class ConsoleUser(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the sign-in name, also the audit log's "user:<name>"
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: argon2id, in the PHC string format argon2-cffi writes
    password_hash: Mapped[str] = mapped_column(String(255))
    #: duty | admin
    role: Mapped[str] = mapped_column(String(16))
    #: the interface language: zh | en
    language: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class ConsoleSession(Base):
    __tablename__ = "console_sessions"
    #: SHA-256 of the cookie's secret
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: SHA-256 of the token
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: the token's first characters, to tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempt(Base):
    """Every sign-in attempt: the record, and what the rate limit counts."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_name_at", "name", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class ConsoleAudit(Base):
    """What console users did outside any one alert (directory edits, accounts, camera views).

    Actions on an alert go to that alert's ``alert_events`` instead, beside everything else
    that happened to it.
    """

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    #: "user:<name>"
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    #: what was acted on: "resident:r-0001", "user:bob"
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class ResidentCard(Base):
    """What duty staff need about a resident beyond the directory: a camera. (Her emergency
    contacts, once kept here, are rows of ``family_contacts`` since migration 0004_oncall.)"""

    __tablename__ = "resident_cards"
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    camera_url: Mapped[str | None] = mapped_column(Text)
    #: the resident (or their guardian) agreed that duty staff may look at the camera
    camera_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))
