"""Twilio-style resource identifiers: a two-letter type prefix and 32 hex digits."""

from __future__ import annotations

import secrets


def new_sid(prefix: str) -> str:
    """A fresh sid such as ``SM`` + 32 hex digits (messages) or ``MG...`` (messaging services)."""
    return prefix + secrets.token_hex(16)
