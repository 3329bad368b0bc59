"""Reading a directory file: TOML, validated entry by entry (``monitor.directory.model``), then
across entries (``monitor.directory.rules``). Every problem is one sentence naming the file,
the entry (``devices[3] (id "btn-0004")``) and the key, and what to do; at most ten are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from monitor.config.settings import read_toml
from monitor.core.errors import ConfigError
from monitor.directory.model import Directory
from monitor.directory.rules import file_problems


def load_directory(path: Path) -> Directory:
    """Read and validate a directory file; ``ConfigError`` naming entry and key otherwise."""
    document = read_toml(path)
    try:
        directory = Directory.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, document)) from None
    problems = file_problems(directory)
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems[:10]))
    return directory


def _describe(path: Path, error: ValidationError, document: dict[str, object]) -> str:
    sentences = []
    for problem in error.errors()[:10]:
        location = list(problem["loc"])
        where = _entry_label(location, document)
        key = _key_path(location[2:])
        if problem["type"] == "extra_forbidden":
            what = f"{key or _key_path([location[-1]])} is not a known key; check its spelling or remove it"
        elif problem["type"] == "missing":
            what = f"{key} is required; add it"
        else:
            message = re.sub(r"^(Value error|String should match pattern)", "", problem["msg"]).strip(" ,")
            if problem["type"] == "string_pattern_mismatch":
                message = "may only use letters, digits and _ . : - (at most 64)"
            what = f"{key or 'value'} {message[:1].lower()}{message[1:]}; fix it"
        sentences.append(f"{path}: {where}{what}.")
    return "\n".join(sentences)


def _key_path(parts: Sequence[object]) -> str | None:
    """``("on_call", 0, "from")`` -> ``on_call[0].from``; a key that is not a plain word is quoted,
    so that whatever the file holds, the message stays one line."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        name = str(part)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            name = _quoted(name)
        path += f".{name}" if path else name
    return path or None


def _quoted(text: str) -> str:
    """``text`` in double quotes with anything unprintable escaped: a message stays one line."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in quoted)


def _entry_label(location: Sequence[object], document: dict[str, object]) -> str:
    if len(location) < 2 or not isinstance(location[1], int):
        return ""
    section, index = str(location[0]), location[1]
    entries = document.get(section)
    entry_id = None
    if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
        entry_id = entries[index].get("id")
    suffix = f" (id {_quoted(entry_id)})" if isinstance(entry_id, str) else ""
    return f"{section}[{index}]{suffix}: "
