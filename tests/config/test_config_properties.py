"""Properties of the config and directory loaders over generated files and environments:
whatever is in them, the result is a valid configuration or a ``ConfigError`` whose every
line names the file, never a traceback, and never a secret repeated back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config.settings import Settings, load_settings
from monitor.core.errors import ConfigError
from monitor.directory.file import load_directory
from monitor.directory.model import Directory

FILE_FIXTURE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150, deadline=None)

SCALARS = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
#: Known keys are likelier to reach the validators than random ones.
CONFIG_KEYS = sorted(
    {key for section in Settings.model_fields.values() for key in getattr(section.annotation, "model_fields", {})}
    | {"url", "auth_token", "account_sid", "api_token", "provider", "listen", "public_url", "timezone"}
)
DIRECTORY_KEYS = sorted(
    {"id", "name", "area", "areas", "resident", "phone", "protocol", "topic", "kind", "language", "role", "tiers"}
    | {"notify", "ack_timeout_s", "repeat", "address", "heartbeat_s", "checkin_by", "timezone", "notes", "serial"}
)


def keys(known: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(known) | st.text(min_size=1, max_size=12)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # JSON's string escapes are TOML's


def toml(tables: dict[str, dict[str, Any]], arrays: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for name, table in tables.items():
        lines.append(f"[{'.'.join(toml_key(part) for part in name.split('.'))}]")
        lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in table.items()]
    for name, entries in arrays.items():
        for entry in entries:
            lines.append(f"[[{toml_key(name)}]]")
            lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in entry.items()]
    return "\n".join(lines) + "\n"


def refused_properly(error: ConfigError, path: Path) -> None:
    lines = str(error).splitlines()
    assert lines and all(line.startswith(str(path)) for line in lines), str(error)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "callwatch.toml"


@FILE_FIXTURE
@given(
    st.dictionaries(
        st.sampled_from([*Settings.model_fields, "sms.twilio", "sms.sandbox"]) | st.text(min_size=1, max_size=8),
        st.dictionaries(keys(CONFIG_KEYS), VALUES, max_size=5),
        max_size=4,
    )
)
def test_any_config_document_loads_or_is_refused_with_sentences(
    config_file: Path, tables: dict[str, dict[str, Any]]
) -> None:
    config_file.write_text(toml(tables, {}), encoding="utf-8")
    try:
        loaded = load_settings(config_file, {})
    except ConfigError as error:
        refused_properly(error, config_file)
    else:
        assert isinstance(loaded, Settings)


@FILE_FIXTURE
@given(st.binary(max_size=300))
def test_any_bytes_load_or_are_refused_with_sentences(config_file: Path, content: bytes) -> None:
    config_file.write_bytes(content)
    try:
        load_settings(config_file, {})
    except ConfigError as error:
        refused_properly(error, config_file)


@FILE_FIXTURE
@given(
    st.dictionaries(
        st.builds(
            lambda section, key: f"CALLWATCH_{section}__{key}".upper(),
            st.sampled_from([*Settings.model_fields, "sms__twilio"]) | st.text(max_size=6),
            keys(CONFIG_KEYS),
        ),
        st.text(max_size=30),
        max_size=4,
    )
)
def test_any_environment_overrides_load_or_are_refused_with_sentences(
    config_file: Path, environ: dict[str, str]
) -> None:
    config_file.write_text('[mqtt]\nurl = "mqtt://127.0.0.1:1883"\n', encoding="utf-8")
    try:
        load_settings(config_file, environ)
    except ConfigError as error:
        refused_properly(error, config_file)


@FILE_FIXTURE
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=4, max_size=15))
def test_a_refused_secret_is_never_repeated(config_file: Path, token: str) -> None:
    def refusal(secret: str) -> str:
        config_file.write_text(f"[web]\napi_token = {toml_value(secret)}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as refused:
            load_settings(config_file, {})
        return str(refused.value)

    # The sentence is the same whatever the secret was (a substring test would trip on a token
    # such as "valu", which the sentence's own words contain).
    sentence = refusal(token)
    assert "[web] api_token" in sentence
    assert sentence == refusal("x" * len(token))


@FILE_FIXTURE
@given(
    st.dictionaries(
        st.sampled_from(["areas", "residents", "devices", "volunteers", "policies"]) | st.text(min_size=1, max_size=8),
        st.lists(st.dictionaries(keys(DIRECTORY_KEYS), VALUES, max_size=6), max_size=3),
        max_size=5,
    )
)
def test_any_directory_document_loads_or_is_refused_with_sentences(
    config_file: Path, arrays: dict[str, list[dict[str, Any]]]
) -> None:
    directory_file = config_file.with_name("directory.toml")
    directory_file.write_text(toml({}, arrays), encoding="utf-8")
    try:
        loaded = load_directory(directory_file)
    except ConfigError as error:
        refused_properly(error, directory_file)
    else:
        assert isinstance(loaded, Directory)
