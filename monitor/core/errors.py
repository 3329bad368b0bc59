"""Errors a user can meet and fix themselves.

Each carries one sentence naming the file, the key and what to do; the CLI prints it
without a traceback and exits 1.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in something the user controls (a file, a flag, a service address)."""


class ConfigError(UserError):
    """The service config or the directory file is wrong."""
