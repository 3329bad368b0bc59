"""Directory files written from Python values.

The demo, the load generator, the harness's deployments, the benchmarks and the tests all
generate directory files (docs/configuration.md). They write them through ``entry``, so that
none of them spells TOML by hand (quoting, inline tables, braces doubled in f-strings) and a
person or a device that several of them share is one Python value, extended where needed::

    LI_MING = {"id": "v-1", "name": "Li Ming", "phone": "+8613900000001", "areas": ["a-1"]}
    directory_file(entry("areas", id="a-1", name="Tianxian 3"), entry("volunteers", **LI_MING, language="zh"))
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias

TomlValue: TypeAlias = "str | int | float | bool | Sequence[TomlValue] | Mapping[str, TomlValue]"
#: one entry's keys, as ``entry`` takes them
Entry: TypeAlias = Mapping[str, "TomlValue | None"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(key: str) -> str:
    """A key as TOML: bare where it may be (``ack_timeout_s``), quoted otherwise (an action ``"*"``)."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: TomlValue) -> str:
    """``value`` as TOML: strings quoted (JSON's escapes are TOML's), lists as arrays, mappings as
    inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_key(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    return "[" + ", ".join(toml_value(item) for item in value) + "]"


def entry(table: str, **keys: TomlValue | None) -> str:
    """One ``[[table]]`` entry (``areas``, ``residents``, ``devices``, ``volunteers``, ``policies``);
    keys given as None are left out."""
    lines = [
        f"[[{table}]]",
        *(f"{toml_key(key)} = {toml_value(value)}" for key, value in keys.items() if value is not None),
    ]
    return "\n".join(lines) + "\n"


def directory_file(*entries: str) -> str:
    """The entries as one directory file's text."""
    return "\n".join(entries)


def policy(
    *tiers: tuple[str, int],
    policy_id: str = "default",
    tier_keys: Sequence[Mapping[str, TomlValue]] = (),
    **keys: TomlValue | None,
) -> str:
    """An escalation policy asking each tier's target (``area``, ``role:leader``, ``family``, a
    volunteer's id) in turn, each for its ack timeout in seconds; ``tier_keys``: more keys of the
    first tiers (``channels``, ``call_after_s``); ``keys`` such as ``repeat`` or ``inform`` beside
    the tiers."""
    extra = [*tier_keys, *([{}] * len(tiers))]
    asked: list[TomlValue] = [
        {"notify": [target], "ack_timeout_s": seconds, **more}
        for (target, seconds), more in zip(tiers, extra, strict=False)
    ]
    return entry("policies", id=policy_id, tiers=asked, **keys)


def area_then_leaders(
    first_s: int, then_s: int, *, repeat: int | None = None, tier_keys: Sequence[Mapping[str, TomlValue]] = ()
) -> str:
    """The usual policy: the resident's area team for ``first_s`` seconds, then the leaders for
    ``then_s``; ``repeat`` more rounds (the directory's default when None); ``tier_keys`` as ``policy``'s."""
    return policy(("area", first_s), ("role:leader", then_s), repeat=repeat, tier_keys=tier_keys)
