"""The directory file's model: who and what is watched (areas, residents, devices, volunteers, policies).

Each entry is validated on its own here, with pydantic; the rules across entries (every
reference points at something that exists, nothing clashes) are in
``monitor.directory.rules``, and reading a file in ``monitor.directory.file``. The console's
forms, the API and CSV files build the same models, so an entry means the same wherever it
comes from.

Who is on call comes from here too: a volunteer's weekly ``on_call`` windows and dated
``exceptions`` (``monitor.oncall.schedule``), home coordinates and consent to share their
phone's position; a resident's home coordinates and ``family`` contacts; a policy's
``inform`` list and each tier's ``order`` and ``channels``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

import devices
from devices.base import DeviceProfile
from devices.press_meanings import PRESS_MEANINGS
from devices.topics import serial_problem, topic_filter_problem, topic_problem, user_name_problem
from monitor.alerts.lifecycle import HEALTH_KINDS, PERSON_KINDS
from monitor.notify.requests import VOICE
from monitor.oncall.calls import parse_call_hours
from monitor.oncall.family import FAMILY_TARGET
from monitor.oncall.schedule import DatedException, WeeklyWindow, parse_days

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Language = Literal["zh", "en"]
Role = Literal["volunteer", "leader", "staff"]
ROLES: tuple[str, ...] = ("volunteer", "leader", "staff")
DEFAULT_POLICY_ID = "default"
#: Protocols a volunteer's own phone may report its position with.
VOLUNTEER_PHONE_PROTOCOLS: tuple[str, ...] = ("owntracks",)


def parse_local_time(text: str) -> time:
    """``"10:00"`` -> 10:00; raises ValueError for anything but HH:MM on a 24-hour clock."""
    match = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", text)
    if match is None:
        raise ValueError(f'must be a time of day as "HH:MM" on a 24-hour clock, like "10:00" (got {text!r})')
    return time(int(match[1]), int(match[2]))


def known_zone(name: str | None) -> str | None:
    """An IANA time zone name, checked; raises ValueError for one zoneinfo does not know."""
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"is not a known time zone name such as Asia/Shanghai (got {name!r})") from exc
    return name


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


class Organisation(Entry):
    """A street office or community service centre: its staff see and manage only what it owns."""

    name: str = Field(min_length=1, max_length=200)


class Area(Entry):
    name: str = Field(min_length=1)
    #: escalation policy for this area's alerts; the "default" policy when empty
    policy: str | None = None
    #: false: retired, kept for the record; refused while anyone or anything is still in it
    #: (``monitor.directory.retire``)
    active: bool = True
    #: the organisation that owns the area; only service-wide staff manage it when empty
    organisation: str | None = None


class SafeZone(BaseModel):
    """Where a resident with a GPS device is safe: a circle, the device's own named region, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0)
    #: the same zone as the device itself knows it: an OwnTracks region, a Traccar geofence
    region: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _circle_or_region(self) -> SafeZone:
        circle = (self.lat, self.lon, self.radius_m)
        if None in circle and circle != (None, None, None):
            raise ValueError("needs lat, lon and radius_m together (the centre and the radius in metres)")
        if self.radius_m is None and self.region is None:
            raise ValueError("needs a circle (lat, lon, radius_m), the device's region name (region), or both")
        return self


class Coordinates(BaseModel):
    """A place: ``{ lat = 30.2741, lon = 120.1551 }``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class FamilyContact(BaseModel):
    """Someone of the resident's family: told about alerts, or asked to help, as policies say."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    phone: str
    #: SMS language; the resident's when left out
    language: Language | None = None
    relationship: str = Field(default="", max_length=64)

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str) -> str:
        return normalize_phone(phone)


class Resident(Entry):
    name: str = Field(min_length=1)
    address: str = ""
    area: str
    phone: str | None = None
    language: Language = "zh"
    notes: str = ""
    #: IANA time zone of the resident's day (check-in deadline); the service's [service] timezone when empty
    timezone: str | None = None
    #: daily check-in deadline, "HH:MM" in the resident's time zone; no check-in expected when empty
    checkin_by: str | None = None
    safe_zone: SafeZone | None = None
    #: where the resident lives, for asking the nearest volunteers first when the device has no position
    home: Coordinates | None = None
    #: emergency contacts; when left out, those already on record (e.g. entered at the console) are kept
    family: list[FamilyContact] | None = None
    #: the resident wants an SMS on ``phone`` when someone takes her alert and when they set off
    sms_updates: bool = False
    #: false: retired with her devices, kept for the record (``monitor.directory.retire``)
    active: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str | None) -> str | None:
        return normalize_phone(phone) if phone else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return known_zone(name)

    @field_validator("checkin_by")
    @classmethod
    def _time_of_day(cls, text: str | None) -> str | None:
        if text is not None:
            parse_local_time(text)
        return text


class Device(Entry):
    #: whose device it is: a resident's, or (volunteer) a volunteer's own phone reporting where they are
    resident: str | None = None
    volunteer: str | None = None
    kind: Literal["button", "gps_phone", "checkin_button"] = "button"
    protocol: str = "native"
    #: hardware identifier for families addressed by payload (Traccar uniqueId / IMEI)
    serial: str | None = None
    #: the device's MQTT topic; its family's default (from the id) when empty. Checked after
    #: id, kind, protocol and serial, with the subscriptions made from them all
    topic: str | None = Field(default=None, validate_default=True)
    #: seconds between two reports of the healthy device; the family's pace when empty; 0 = none
    heartbeat_s: int | None = Field(default=None, ge=0, le=7 * 86400)
    #: press action -> meaning, e.g. { long = "cancel", "*" = "sos" }
    actions: dict[str, str] = Field(default_factory=dict)
    #: false: retired (handed back), no longer supervised nor let on the broker (``monitor.directory.retire``)
    active: bool = True

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, protocol: str) -> str:
        known = sorted(devices.registry())
        if protocol not in known:
            raise ValueError(f"must be one of {', '.join(known)} (got {protocol!r})")
        return protocol

    @field_validator("id")
    @classmethod
    def _broker_user_name(cls, device_id: str) -> str:
        """A device's id is the name of its own broker account (``callwatch acl``)."""
        problem = user_name_problem(device_id)
        if problem is not None:
            raise ValueError(f"{problem} (a device's id is its broker account's name)")
        return device_id

    @field_validator("serial")
    @classmethod
    def _plain_serial(cls, serial: str | None) -> str | None:
        problem = None if serial is None else serial_problem(serial)
        if problem is not None:
            raise ValueError(problem)
        return serial

    @field_validator("topic")
    @classmethod
    def _subscribable_topic(cls, topic: str | None, info: ValidationInfo) -> str | None:
        """A topic the broker takes, and from which the device's family makes only subscriptions
        and feedback topics the broker takes too (``devices.topics``: MQTT's rules and more)."""
        problem = None if topic is None else topic_problem(topic)
        if problem is not None:
            raise ValueError(problem)
        if not {"id", "kind", "protocol"} <= info.data.keys():
            return topic  # reported on those keys already
        adapter = devices.registry()[info.data["protocol"]]
        profile = DeviceProfile(
            device_id=info.data["id"],
            kind=info.data["kind"],
            topic=topic or adapter.default_topic(info.data["id"]),
            serial=info.data.get("serial"),
        )
        if topic is None and (problem := topic_problem(profile.topic)) is not None:
            raise ValueError(f"is needed: the default {profile.topic!r} made from the id {problem}")
        for topic_filter in adapter.topic_filters(profile):
            if (problem := topic_filter_problem(topic_filter)) is not None:
                raise ValueError(f"makes the subscription {topic_filter!r}, which {problem}")
        feedback = adapter.feedback_topic(profile)
        if feedback is not None and (problem := topic_problem(feedback)) is not None:
            raise ValueError(f"makes the feedback topic {feedback!r}, which {problem}")
        return topic

    @field_validator("actions")
    @classmethod
    def _known_meanings(cls, actions: dict[str, str]) -> dict[str, str]:
        for action, meaning in actions.items():
            if meaning not in PRESS_MEANINGS:
                raise ValueError(f"maps {action!r} to {meaning!r}; use one of {', '.join(sorted(PRESS_MEANINGS))}")
        return actions

    @property
    def heartbeat_interval_s(self) -> int:
        """The expected heartbeat: the entry's own, else its family's default."""
        if self.heartbeat_s is not None:
            return self.heartbeat_s
        return devices.registry()[self.protocol].default_heartbeat_s

    def profile(self) -> DeviceProfile:
        adapter = devices.registry()[self.protocol]
        return DeviceProfile(
            device_id=self.id,
            kind=self.kind,
            topic=self.topic or adapter.default_topic(self.id),
            serial=self.serial,
            action_map=dict(self.actions),
        )


class OnCallWindow(BaseModel):
    """A weekly window: ``{ days = ["mon-fri"], from = "18:00", to = "08:00" }``.

    A ``to`` not after ``from`` ends the next day; both left out mean the whole day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    days: list[str] = Field(default_factory=lambda: ["daily"], min_length=1)
    start: str = Field(default="00:00", alias="from")
    end: str = Field(default="00:00", alias="to")

    @field_validator("days")
    @classmethod
    def _days(cls, days: list[str]) -> list[str]:
        parse_days(days)
        return days

    @field_validator("start", "end")
    @classmethod
    def _time_of_day(cls, text: str) -> str:
        parse_local_time(text)
        return text

    def window(self) -> WeeklyWindow:
        return WeeklyWindow(parse_days(self.days), parse_local_time(self.start), parse_local_time(self.end))


def _local_moment(value: Any) -> date | datetime:
    """A TOML local date or date-time, or the same written as text ("2026-10-01", "2026-10-10 18:00")."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", text):
            return datetime.fromisoformat(text.replace(" ", "T"))
        raise ValueError(f"must be a local date like 2026-10-01 or date and time like 2026-10-10T18:00 (got {value!r})")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("must be a local date and time without an offset: the volunteer's timezone applies")
        return value
    if isinstance(value, date):
        return value
    raise ValueError("must be a local date like 2026-10-01 or date and time like 2026-10-10T18:00")


class OnCallException(BaseModel):
    """A dated exception: ``{ from = 2026-10-01, to = 2026-10-07, on_call = false, note = "holiday" }``.

    Dates mean whole days (``to`` included); date-times are exact, ``to`` being the end.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    on_call: bool
    start: datetime | date = Field(alias="from")
    end: datetime | date = Field(alias="to")
    note: str = Field(default="", max_length=200)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> date | datetime:
        return _local_moment(value)

    @model_validator(mode="after")
    def _in_order(self) -> OnCallException:
        span = self.exception()
        if span.end <= span.start:
            raise ValueError("to must come after from")
        return self

    def exception(self) -> DatedException:
        start = self.start if isinstance(self.start, datetime) else datetime.combine(self.start, time())
        end = self.end if isinstance(self.end, datetime) else datetime.combine(self.end + timedelta(days=1), time())
        return DatedException(self.on_call, start, end, self.note)


class Volunteer(Entry):
    name: str = Field(min_length=1)
    phone: str
    areas: list[str] = Field(default_factory=list)
    language: Language = "zh"
    role: Role = "volunteer"
    #: IANA zone of the on-call windows; the service's [service] timezone when left out
    timezone: str | None = None
    #: weekly on-call windows; none means on call at all hours
    on_call: list[OnCallWindow] = Field(default_factory=list)
    #: dated exceptions to the weekly windows (holidays, swaps); the last listed wins where they overlap
    exceptions: list[OnCallException] = Field(default_factory=list)
    #: where the volunteer lives, for asking the nearest first when their phone's position is unknown
    home: Coordinates | None = None
    #: the volunteer agreed that the position of their phone (a device with volunteer = this id) is used
    share_location: bool = False
    #: false: never called (tiers that call reach them by SMS only)
    voice: bool = True
    #: "22:00-07:00": called only inside these hours of their time zone (``monitor.oncall.calls``)
    voice_hours: str | None = None
    #: the organisation whose administrators manage them (their areas may belong to others too)
    organisation: str | None = None
    #: false: retired, never asked again and on no list (``monitor.directory.retire``); kept for the record
    active: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, phone: str) -> str:
        return normalize_phone(phone)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        return known_zone(name)

    @field_validator("voice_hours")
    @classmethod
    def _call_hours(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is None:
            return None
        if info.data.get("voice") is False:
            raise ValueError("has no use with voice = false (never called); remove one of them")
        parse_call_hours(text)
        return text

    def schedule_json(self) -> dict[str, Any]:
        """The schedule as the database keeps it (``monitor.oncall.schedule.Schedule.from_json``)."""
        return {
            "on_call": [window.window().as_json() for window in self.on_call],
            "exceptions": [exception.exception().as_json() for exception in self.exceptions],
        }


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: "area" (the alert's area team), "role:<role>", "family" (the resident's contacts), or volunteer ids
    notify: list[str] = Field(min_length=1)
    #: how long the tier waits for an answer after its last person was asked
    ack_timeout_s: int = Field(default=120, ge=1, le=86400)
    #: "together": everyone at once; "nearest": one at a time, nearest to the resident first
    order: Literal["together", "nearest"] = "together"
    #: in a "nearest" tier, how long each person has before the next nearest is asked too
    per_person_timeout_s: int = Field(default=60, ge=5, le=3600)
    #: how its people are reached, all at once: "sms", "voice" (the service's channels, ``monitor.notify.channels``)
    channels: list[str] = Field(default_factory=lambda: ["sms"], min_length=1, max_length=4)
    #: call those asked who have not answered after this many seconds (inside ``ack_timeout_s``)
    call_after_s: int | None = Field(default=None, ge=5, le=3600)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, channels: list[str]) -> list[str]:
        for channel in channels:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,15}", channel):
                raise ValueError(f'names "{channel}"; a channel is a lowercase word such as "sms"')
        if len(set(channels)) != len(channels):
            raise ValueError("names a channel twice; list each once")
        return channels

    @model_validator(mode="after")
    def _call_inside_the_wait(self) -> Tier:
        if self.call_after_s is None:
            return self
        if VOICE in self.channels:
            raise ValueError(
                "call_after_s calls those who have not answered, but channels already calls everyone at once; "
                'remove "voice" from channels or remove call_after_s'
            )
        wait, what = (
            (self.per_person_timeout_s, "per_person_timeout_s")
            if self.one_at_a_time
            else (self.ack_timeout_s, "ack_timeout_s")
        )
        if self.call_after_s >= wait:
            raise ValueError(
                f"call_after_s ({self.call_after_s}) must be shorter than {what} ({wait}), "
                "or the tier moves on before anyone is called"
            )
        return self

    @property
    def one_at_a_time(self) -> bool:
        return self.order == "nearest"


#: A taken alert's follow-through when the policy says nothing: on site within 30 minutes,
#: resolved within two hours of arriving.
DEFAULT_ARRIVE_WITHIN_S = 1800
DEFAULT_RESOLVE_WITHIN_S = 7200
DEFAULT_ARRIVAL_RADIUS_M = 100


class Policy(Entry):
    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)
    #: alert kinds this policy escalates in every area (say missed_checkin: the area team
    #: first, to knock on the door); other alerts follow their area's policy
    kinds: list[str] = Field(default_factory=list)
    #: told when an alert is raised and when it ends, never asked: "family"
    inform: list[str] = Field(default_factory=list)
    #: follow-through: whoever took an alert is reminded half-way to this and, if they have not
    #: arrived by then, the alert is asked again and flagged overdue
    #: (its range is checked with the directory's rules, ``monitor.directory.rules``)
    arrive_within_s: int = DEFAULT_ARRIVE_WITHIN_S
    #: once someone is on site: reminded half-way to this, duty staff told when it passes
    resolve_within_s: int = DEFAULT_RESOLVE_WITHIN_S
    #: whoever took an alert is on site once their shared phone position is this close to the
    #: resident's home (or the alert's own fix)
    arrival_radius_m: int = DEFAULT_ARRIVAL_RADIUS_M
    #: false: retired, kept for the record; refused while an area or an alert still follows it
    #: (``monitor.directory.retire``)
    active: bool = True
    #: the organisation that owns the policy; service-wide when empty
    organisation: str | None = None

    @field_validator("inform")
    @classmethod
    def _informable(cls, targets: list[str]) -> list[str]:
        for target in targets:
            if target != FAMILY_TARGET:
                raise ValueError(f'names "{target}"; only "{FAMILY_TARGET}" (the resident\'s contacts) can be informed')
        return targets

    @field_validator("kinds")
    @classmethod
    def _person_kinds(cls, kinds: list[str]) -> list[str]:
        for kind in kinds:
            if kind in HEALTH_KINDS:
                raise ValueError(
                    f'names "{kind}", a device-health alert (those go to duty staff in batches and to the '
                    "area's daily digest, never through a policy)"
                )
            if kind not in PERSON_KINDS:
                raise ValueError(
                    f'names "{kind}"; only {" and ".join(sorted(PERSON_KINDS))} have policies of their own '
                    "(sos and fall follow the area's policy)"
                )
        return kinds


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    organisations: list[Organisation] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)
    residents: list[Resident] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    volunteers: list[Volunteer] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
