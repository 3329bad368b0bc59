"""What the directory-file tests share: the area every small test directory starts with, the
file written and loaded from a temporary folder, the one error it is refused with, and the
example directory shipped in config/ (its commented-out entries included)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.core.errors import ConfigError
from monitor.directory.file import load_directory
from monitor.directory.model import Directory
from simulator.directory_entries import entry
from simulator.harness.neighbourhood import TIANXIAN

ONE_AREA = entry("areas", **TIANXIAN)
EXAMPLE = Path(__file__).parents[2] / "config" / "directory.example.toml"
#: the example's commented-out entries: "# " before a table, a key, an inline table's line or a "]"
COMMENTED_ENTRY_LINE = re.compile(r"^# (?=\[\[|[a-z_]+ = |  \{|\])", re.MULTILINE)


def written(tmp_path: Path, text: str) -> Path:
    """``text`` as the directory file ``directory.toml`` in ``tmp_path``."""
    path = tmp_path / "directory.toml"
    path.write_text(text, encoding="utf-8")
    return path


def loaded(tmp_path: Path, text: str) -> Directory:
    return load_directory(written(tmp_path, text))


def refusal(tmp_path: Path, text: str) -> str:
    """Why the directory ``text`` is refused: the ConfigError's message, each line naming the file."""
    path = written(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_directory(path)
    message = str(caught.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    return message


def example(*, with_commented_entries: bool = False) -> str:
    """The example directory's text; with ``with_commented_entries``, its commented-out entries in force."""
    text = EXAMPLE.read_text(encoding="utf-8")
    return COMMENTED_ENTRY_LINE.sub("", text) if with_commented_entries else text
