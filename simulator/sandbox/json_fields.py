"""Typed reads of fields from decoded JSON objects; ValueError names the field that is wrong."""

from __future__ import annotations

from collections.abc import Mapping


def optional_int(data: Mapping[str, object], name: str, default: int | None = None) -> int | None:
    value = data.get(name, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"'{name}' must be an integer or null")


def optional_str(data: Mapping[str, object], name: str, default: str | None = None) -> str | None:
    value = data.get(name, default)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"'{name}' must be a string or null")


def seconds(data: Mapping[str, object], name: str, default: float = 0.0) -> float:
    """A non-negative number of seconds."""
    value = data.get(name, default)
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ValueError(f"'{name}' must be a number of seconds, 0 or more")
