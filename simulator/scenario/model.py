"""Scenario files (TOML): timed steps across many devices, plus how volunteers' phones answer.

    name = "A morning in Tianxian"
    directory = "../../config/directory.example.toml"   # devices come from here (relative to this file)

    [[phones]]                                  # scripts for the SMS sandbox's phones (optional)
    number = "+8613900000001"
    rules = [{ pattern = "王秀英", reply = "收到", delay = 8 }]

    [[steps]]
    at = 5                                      # seconds after the start
    device = "btn-0001"
    action = "press"                            # online offline press heartbeat battery location walk region note
    meaning = "sos"

Every mistake is reported as one sentence naming the file and the step.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.directory.file import load_directory
from simulator.families import MEANINGS

Action = Literal["online", "offline", "press", "heartbeat", "battery", "location", "walk", "region", "note"]


class ScenarioError(ValueError):
    """A scenario file that cannot be run, in readable sentences."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceEntry(Model):
    """A device simulated by this scenario that is not (or differently) in the directory file."""

    id: str = Field(min_length=1)
    protocol: str = "native"
    kind: Literal["button", "gps_phone", "checkin_button"] = "button"
    topic: str | None = None
    serial: str | None = None
    actions: dict[str, str] = Field(default_factory=dict)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    battery: int = Field(default=100, ge=0, le=100)


class PhoneRule(Model):
    reply: str | None = None
    delay: float = Field(default=0.0, ge=0)
    pattern: str | None = None
    times: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _valid_pattern(self) -> PhoneRule:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        return self


class PhoneEntry(Model):
    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    name: str = ""
    rules: list[PhoneRule] = Field(default_factory=list)


class Step(Model):
    at: float = Field(ge=0)
    action: Action
    device: str | None = None
    devices: list[str] = Field(default_factory=list)
    #: press: what the press means to the monitor
    meaning: str = "sos"
    #: battery: the level reported (the first time, with ``every_s``)
    battery: int | None = Field(default=None, ge=0, le=100)
    #: battery with every_s: points lost between two reports
    drain: int = Field(default=0, ge=0, le=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    acc: float = Field(default=10.0, ge=0)
    #: walk: waypoints [[lat, lon], ...] walked at speed_kmh, a fix every every_s
    route: list[tuple[float, float]] = Field(default_factory=list)
    speed_kmh: float = Field(default=4.5, gt=0)
    region: str | None = None
    transition: Literal["enter", "leave"] = "leave"
    #: repeat the step every this many seconds (heartbeats, battery drain) until ``until``
    every_s: float | None = Field(default=None, gt=0)
    until: float | None = Field(default=None, ge=0)
    #: printed when the step runs
    note: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Step:
        if self.action != "note" and not self.device and not self.devices:
            raise ValueError(f"a {self.action} step needs device or devices")
        if self.action == "note" and not self.note:
            raise ValueError("a note step needs note")
        if self.action == "press" and self.meaning not in MEANINGS:
            raise ValueError(f"meaning must be one of {', '.join(MEANINGS)}")
        if self.action == "location" and (self.lat is None or self.lon is None):
            raise ValueError("a location step needs lat and lon")
        if self.action == "walk" and len(self.route) < 2:
            raise ValueError("a walk step needs a route of at least two [lat, lon] points")
        if self.action == "region" and not self.region:
            raise ValueError("a region step needs region (and transition, enter or leave)")
        if self.action == "battery" and self.battery is None and not self.drain:
            raise ValueError("a battery step needs battery (the level) or drain with every_s")
        if self.until is not None and self.every_s is None:
            raise ValueError("until only makes sense with every_s")
        return self

    @property
    def targets(self) -> list[str]:
        return [*([self.device] if self.device else []), *self.devices]


class Scenario(Model):
    name: str = "scenario"
    description: str = ""
    #: a directory file whose devices this scenario simulates (relative to the scenario file)
    directory: str | None = None
    #: bring every device online (connected, Last Will set) before the first step
    online_at_start: bool = True
    devices: list[DeviceEntry] = Field(default_factory=list)
    phones: list[PhoneEntry] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return max((step.until or step.at for step in self.steps), default=0.0)


def load_scenario(path: Path, directory: Path | None = None) -> tuple[Scenario, Path | None]:
    """The scenario at ``path`` and the resolved path of its directory file (or ``directory``), checked."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        raise ScenarioError("\n".join(_sentence(path, problem, document) for problem in exc.errors()[:10])) from None
    directory_path = directory or ((path.parent / scenario.directory).resolve() if scenario.directory else None)
    known = {entry.id for entry in scenario.devices}
    if directory_path is not None:
        known |= {entry.id for entry in load_directory(directory_path).devices}
    problems = [
        f"{path}: steps[{index}] names device {target!r}, which is neither under [[devices]] nor in the directory"
        for index, step in enumerate(scenario.steps)
        for target in step.targets
        if target not in known
    ]
    if problems:
        raise ScenarioError("\n".join(problems[:10]))
    return scenario, directory_path


def _sentence(path: Path, problem: object, document: dict[str, object]) -> str:
    assert isinstance(problem, dict)
    location = [str(part) for part in problem["loc"]]
    where = f"{location[0]}[{location[1]}]" if len(location) > 1 and location[1].isdigit() else location[0]
    key = ".".join(location[2:]) if len(location) > 2 else ""
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{path}: {where}{' ' + key if key else ''}: {message}"
