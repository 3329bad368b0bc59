"""Password hashing with argon2id (argon2-cffi), the OWASP-recommended choice."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    #: the hash was made with older parameters: store a fresh one now that the password is known
    new_hash: str | None = None


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when the user does not exist, so the answer takes as long either way.
        self._decoy = self._hasher.hash("callwatch-decoy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> Verdict:
        try:
            self._hasher.verify(stored_hash or self._decoy, password[:MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            return Verdict(ok=False)
        if stored_hash is None:
            return Verdict(ok=False)
        return Verdict(ok=True, new_hash=self.hash(password) if self._hasher.check_needs_rehash(stored_hash) else None)


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if password.strip() != password or not password.strip():
        return "must not start or end with spaces"
    return None
