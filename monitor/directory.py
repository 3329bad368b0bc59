"""The directory file: who and what is watched (areas, residents, devices, volunteers, policies).

Validated entry by entry with pydantic, then across entries (every reference points at
something that exists, ids and phone numbers are unique). Errors name the file, the entry
(``devices[3] (id "btn-0004")``) and the key.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

import devices
from devices.actions import PRESS_MEANINGS
from devices.base import DeviceProfile
from monitor.config import read_toml
from monitor.errors import ConfigError

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Language = Literal["zh", "en"]
Role = Literal["volunteer", "leader", "staff"]
ROLES: tuple[str, ...] = ("volunteer", "leader", "staff")
DEFAULT_POLICY_ID = "default"


def normalize_phone(raw: str) -> str:
    """E.164 without spaces, dashes or brackets; raises ValueError when it cannot be one."""
    compact = re.sub(r"[\s\-().]", "", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not E164.match(compact):
        raise ValueError(f"must be an international number like +8613900000001 (got {raw!r})")
    return compact


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=IDENTIFIER)


class Area(Entry):
    name: str = Field(min_length=1)
    #: escalation policy for this area's alerts; the "default" policy when empty
    policy: str | None = None


class Resident(Entry):
    name: str = Field(min_length=1)
    address: str = ""
    area: str
    phone: str | None = None
    language: Language = "zh"
    notes: str = ""

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str | None) -> str | None:
        return normalize_phone(phone) if phone else None


class Device(Entry):
    resident: str
    kind: Literal["button", "gps_phone", "checkin_button"] = "button"
    protocol: str = "native"
    topic: str | None = None
    #: hardware identifier for families addressed by payload (Traccar uniqueId / IMEI)
    serial: str | None = None
    heartbeat_s: int = Field(default=300, ge=0)
    #: press action -> meaning, e.g. { long = "cancel", "*" = "sos" }
    actions: dict[str, str] = Field(default_factory=dict)

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, protocol: str) -> str:
        known = sorted(devices.registry())
        if protocol not in known:
            raise ValueError(f"must be one of {', '.join(known)} (got {protocol!r})")
        return protocol

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, topic: str | None) -> str | None:
        if topic is not None and (not topic or any(char in topic for char in "+#\0")):
            raise ValueError("must be a non-empty MQTT topic without wildcards")
        return topic

    @field_validator("actions")
    @classmethod
    def _known_meanings(cls, actions: dict[str, str]) -> dict[str, str]:
        for action, meaning in actions.items():
            if meaning not in PRESS_MEANINGS:
                raise ValueError(f"maps {action!r} to {meaning!r}; use one of {', '.join(sorted(PRESS_MEANINGS))}")
        return actions

    def profile(self) -> DeviceProfile:
        adapter = devices.registry()[self.protocol]
        return DeviceProfile(
            device_id=self.id,
            kind=self.kind,
            topic=self.topic or adapter.default_topic(self.id),
            serial=self.serial,
            action_map=dict(self.actions),
        )


class Volunteer(Entry):
    name: str = Field(min_length=1)
    phone: str
    areas: list[str] = Field(default_factory=list)
    language: Language = "zh"
    role: Role = "volunteer"

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str) -> str:
        return normalize_phone(phone)


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: "area" (the alert's area team), "role:<role>", or volunteer ids
    notify: list[str] = Field(min_length=1)
    ack_timeout_s: int = Field(default=120, ge=1, le=86400)


class Policy(Entry):
    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    areas: list[Area] = Field(default_factory=list)
    residents: list[Resident] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    volunteers: list[Volunteer] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)


def load_directory(path: Path) -> Directory:
    """Read and validate a directory file; ``ConfigError`` naming entry and key otherwise."""
    document = read_toml(path)
    try:
        directory = Directory.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc, document)) from None
    problems = cross_reference_problems(directory)
    if problems:
        raise ConfigError("\n".join(f"{path}: {problem}" for problem in problems[:10]))
    return directory


def _describe(path: Path, error: ValidationError, document: dict[str, object]) -> str:
    sentences = []
    for problem in error.errors()[:10]:
        location = list(problem["loc"])
        where = _entry_label(location, document)
        key = ".".join(str(part) for part in location[2:]) or None
        if problem["type"] == "extra_forbidden":
            what = f"{key or location[-1]} is not a known key; check its spelling or remove it"
        elif problem["type"] == "missing":
            what = f"{key} is required; add it"
        else:
            message = re.sub(r"^(Value error|String should match pattern)", "", problem["msg"]).strip(" ,")
            if problem["type"] == "string_pattern_mismatch":
                message = "may only use letters, digits and _ . : - (at most 64)"
            what = f"{key or 'value'} {message[:1].lower()}{message[1:]}; fix it"
        sentences.append(f"{path}: {where}{what}.")
    return "\n".join(sentences)


def _entry_label(location: Sequence[object], document: dict[str, object]) -> str:
    if len(location) < 2 or not isinstance(location[1], int):
        return ""
    section, index = str(location[0]), location[1]
    entries = document.get(section)
    entry_id = None
    if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
        entry_id = entries[index].get("id")
    suffix = f' (id "{entry_id}")' if isinstance(entry_id, str) else ""
    return f"{section}[{index}]{suffix}: "


def cross_reference_problems(directory: Directory) -> list[str]:
    """Every broken reference or duplicate, as a sentence naming the entry and key."""
    problems: list[str] = []
    for section in ("areas", "residents", "devices", "volunteers", "policies"):
        entries: list[Entry] = getattr(directory, section)
        problems += _duplicates(section, "id", [entry.id for entry in entries])
    problems += _duplicates("volunteers", "phone", [volunteer.phone for volunteer in directory.volunteers])
    refs = [
        f"{device.protocol} {devices.registry()[device.protocol].device_ref(device.profile())}"
        for device in directory.devices
    ]
    problems += _duplicates("devices", "topic/serial", refs)

    area_ids = {area.id for area in directory.areas}
    resident_ids = {resident.id for resident in directory.residents}
    volunteer_ids = {volunteer.id for volunteer in directory.volunteers}
    policy_ids = {policy.id for policy in directory.policies}

    for index, resident in enumerate(directory.residents):
        if resident.area not in area_ids:
            problems.append(
                f'residents[{index}] (id "{resident.id}"): area "{resident.area}" is not listed '
                "under [[areas]]; add the area or fix the id."
            )
    for index, device in enumerate(directory.devices):
        if device.resident not in resident_ids:
            problems.append(
                f'devices[{index}] (id "{device.id}"): resident "{device.resident}" is not listed '
                "under [[residents]]; add the resident or fix the id."
            )
    for index, volunteer in enumerate(directory.volunteers):
        for area_id in volunteer.areas:
            if area_id not in area_ids:
                problems.append(
                    f'volunteers[{index}] (id "{volunteer.id}"): areas: "{area_id}" is not listed '
                    "under [[areas]]; add the area or fix the id."
                )
    for index, area in enumerate(directory.areas):
        wanted = area.policy or DEFAULT_POLICY_ID
        if wanted not in policy_ids:
            problems.append(
                f'areas[{index}] (id "{area.id}"): policy "{wanted}" is not listed under [[policies]]; '
                f'add a policy with id "{wanted}" or set policy to an existing one.'
            )
    for index, policy in enumerate(directory.policies):
        for tier_index, tier in enumerate(policy.tiers):
            for target in tier.notify:
                problem = _target_problem(target, volunteer_ids)
                if problem:
                    problems.append(f'policies[{index}] (id "{policy.id}"): tiers[{tier_index}].notify: {problem}')
    return problems


def _target_problem(target: str, volunteer_ids: set[str]) -> str | None:
    if target == "area" or target in volunteer_ids:
        return None
    if target.startswith("role:"):
        role = target.removeprefix("role:")
        if role in ROLES:
            return None
        return f'"{target}" names an unknown role; use role:{", role:".join(ROLES)}.'
    return f'"{target}" is not "area", a role:<role> or a volunteer id listed under [[volunteers]]; fix it.'


def _duplicates(section: str, key: str, values: Iterable[str]) -> list[str]:
    counts = Counter(values)
    return [
        f'{section}: {key} "{value}" is used {count} times; each must be unique.'
        for value, count in counts.items()
        if count > 1
    ]
