"""Directory entries as console forms and spreadsheet rows (CSV, .xlsx: ``monitor.directory.
spreadsheets``), checked by the same rules as the directory file (``monitor.directory.rules``),
against what the database already holds. A spreadsheet may add an ``active`` column (yes or no).

Form and CSV values are text; lists are written ``a-1, a-2``, a device's press actions
``long=cancel, *=sos`` and a policy's tiers one per line (``|`` between them in CSV) as
``area, role:leader ; 60`` (who to tell ; seconds to wait for an answer), with
``; nearest 45`` after it for a tier that asks one person at a time, nearest first. A
volunteer's on-call windows are ``mon-fri 18:00-08:00`` and exceptions
``2026-10-01 .. 2026-10-07 off holiday``, one per line; places are ``lat, lon``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

import devices
from monitor.core.csv_cells import write_csv
from monitor.core.errors import UserError
from monitor.directory import model as file_model
from monitor.directory.rules import database_problems, duplicate_problems, entry_problems, known_in_database
from monitor.directory.spreadsheets import Sheet, read_sheet, spreadsheet_phone
from monitor.oncall.schedule import day_names
from monitor.store import models
from monitor.store.database import Database
from monitor.users.scope import Scope

MAX_CSV_ROWS = 5000
#: Columns of phone numbers: left as they are in CSV exports when in E.164 form
PHONE_COLUMNS = frozenset({"phone"})


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | select | number | checkbox
    choices: tuple[str, ...] = ()
    #: choices read from the database: "areas" | "residents" | "policies"
    choices_from: str | None = None
    hint: str = ""
    required: bool = False
    #: kept beside the directory entry (the resident's care card), not in the directory file
    card: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    model: type[file_model.Entry]
    table: type[models.Base]
    fields: tuple[Field, ...]
    #: columns searched by the list's search box
    searched: tuple[str, ...]

    @property
    def file_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if not field.card)

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)


ID_HINT = "letters, digits and _ . : - (at most 64); cannot be changed later"
OWNER_HINT = "whose administrators manage it; empty: service-wide staff only"
SECTIONS: dict[str, Section] = {
    section.key: section
    for section in (
        Section(
            "residents",
            "Residents",
            file_model.Resident,
            models.Resident,
            (
                Field("id", "Id", hint=ID_HINT, required=True),
                Field("name", "Name", required=True),
                Field("address", "Address", "textarea"),
                Field("area", "Area", "select", choices_from="areas", required=True),
                Field("phone", "Phone", hint="international format, e.g. +8613800000001"),
                Field("language", "SMS language", "select", choices=("zh", "en")),
                Field("notes", "Notes", "textarea"),
                Field(
                    "home", "Home (lat, lon)", hint="for asking the nearest volunteers first, e.g. 30.2741, 120.1551"
                ),
                Field(
                    "emergency_contacts",
                    "Emergency contacts",
                    "textarea",
                    hint="one per line: name | relation | phone | language (zh or en; the resident's when left out)",
                    card=True,
                ),
                Field("camera_url", "Camera link", hint="http(s) address of the resident's camera", card=True),
                Field("camera_consent", "The resident consented to camera views", "checkbox", card=True),
                Field(
                    "key_safe_code",
                    "Key safe code",
                    hint="shown only to whoever takes her alert, on their responder page; never in SMS",
                    card=True,
                ),
            ),
            ("id", "name", "address", "phone"),
        ),
        Section(
            "devices",
            "Devices",
            file_model.Device,
            models.Device,
            (
                Field("id", "Id", hint=ID_HINT, required=True),
                Field("resident", "Resident", "select", choices_from="residents", required=True),
                Field("kind", "Kind", "select", choices=("button", "gps_phone", "checkin_button")),
                Field("protocol", "Protocol", "select", choices_from="protocols"),
                Field("topic", "MQTT topic", hint="empty: derived from the protocol and id"),
                Field("serial", "Serial / IMEI", hint="for devices addressed by payload (Traccar)"),
                Field("heartbeat_s", "Heartbeat (s)", "number", hint="expected interval; 0 = none"),
                Field("actions", "Press actions", hint="e.g. long=cancel, *=sos"),
            ),
            ("id", "resident_id", "topic", "serial"),
        ),
        Section(
            "volunteers",
            "Volunteers",
            file_model.Volunteer,
            models.Volunteer,
            (
                Field("id", "Id", hint=ID_HINT, required=True),
                Field("name", "Name", required=True),
                Field("phone", "Phone", hint="international format, e.g. +8613900000001", required=True),
                Field("areas", "Areas", hint="area ids, separated by commas"),
                Field("language", "SMS language", "select", choices=("zh", "en")),
                Field("role", "Role", "select", choices=file_model.ROLES),
                Field("timezone", "Time zone", hint="of the on-call windows, e.g. Asia/Shanghai; empty: the service's"),
                Field(
                    "on_call",
                    "On-call windows",
                    "textarea",
                    hint="one per line: days and hours, e.g. mon-fri 18:00-08:00 then sat, sun; empty: always on call",
                ),
                Field(
                    "exceptions",
                    "On-call exceptions",
                    "textarea",
                    hint="one per line: from .. to, on or off, a note; e.g. 2026-10-01 .. 2026-10-07 off holiday",
                ),
                Field(
                    "home", "Home (lat, lon)", hint="for asking the nearest first when the phone's position is unknown"
                ),
                Field("share_location", "Agreed to share the phone's position", "checkbox"),
                Field("voice", "May be called", "select", choices=("yes", "no"), hint="no: tiers that call text them"),
                Field("voice_hours", "Call only at", hint="e.g. 22:00-07:00 in their time zone; empty: whenever"),
                Field("organisation", "Organisation", "select", choices_from="organisations", hint=OWNER_HINT),
            ),
            ("id", "name", "phone"),
        ),
        Section(
            "areas",
            "Areas",
            file_model.Area,
            models.Area,
            (
                Field("id", "Id", hint=ID_HINT, required=True),
                Field("name", "Name", required=True),
                Field("policy", "Escalation policy", "select", choices_from="policies", hint="empty: default"),
                Field("organisation", "Organisation", "select", choices_from="organisations", hint=OWNER_HINT),
            ),
            ("id", "name"),
        ),
        Section(
            "policies",
            "Escalation policies",
            file_model.Policy,
            models.EscalationPolicy,
            (
                Field("id", "Id", hint=ID_HINT, required=True),
                Field(
                    "tiers",
                    "Tiers",
                    "textarea",
                    hint="one tier per line: who ; seconds to wait, e.g. area ; 60 then v-09, role:leader ; 120; "
                    "more after a semicolon: nearest 60, by sms voice, call after 60",
                    required=True,
                ),
                Field("repeat", "Repeat", "number", hint="run the tiers again this many times, then UNANSWERED"),
                Field(
                    "inform", "Inform only", hint="family: told when an alert is raised and when it ends, never asked"
                ),
                Field("organisation", "Organisation", "select", choices_from="organisations", hint=OWNER_HINT),
            ),
            ("id",),
        ),
    )
}


class FormProblems(dict[str, list[str]]):
    """Problems by field name ("" for the entry as a whole)."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


# -- text in, entries out ---------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]


#: what may follow a tier's seconds, each after a semicolon
_TIER_OPTIONS = (
    (re.compile(r"nearest(?:\s+(\d+))?"), "order"),
    (re.compile(r"by\s+([a-z][a-z0-9_]*(?:[\s,+]+[a-z][a-z0-9_]*)*)"), "channels"),
    (re.compile(r"call\s+after\s+(\d+)"), "call_after_s"),
)


def _tiers(text: str, problems: FormProblems) -> list[dict[str, Any]]:
    tiers = []
    for number, line in enumerate([line for line in re.split(r"[\n|]", text) if line.strip()], start=1):
        who, _, rest = line.partition(";")
        seconds, *options = rest.split(";")
        tier: dict[str, Any] = {"notify": _split(who), "ack_timeout_s": 0}
        if not seconds.strip().isdigit() or not all(_tier_option(option.strip(), tier) for option in options):
            problems.add(
                "tiers",
                f"tier {number}: write who to tell, a semicolon and the seconds to wait "
                "(then ; nearest 60 ; by sms voice ; call after 60)",
            )
            continue
        tier["ack_timeout_s"] = int(seconds.strip())
        tiers.append(tier)
    return tiers


def _tier_option(option: str, tier: dict[str, Any]) -> bool:
    """Add one option of a tier's line to ``tier``; False when it is none of them."""
    for pattern, key in _TIER_OPTIONS:
        found = pattern.fullmatch(option)
        if found is None:
            continue
        if key == "order":
            tier["order"] = "nearest"
            if found[1]:
                tier["per_person_timeout_s"] = int(found[1])
        elif key == "channels":
            tier["channels"] = re.split(r"[\s,+]+", found[1])
        else:
            tier[key] = int(found[1])
        return True
    return False


def _windows(text: str, problems: FormProblems) -> list[dict[str, Any]]:
    """``mon-fri 18:00-08:00`` lines as on_call windows (no hours: the whole day)."""
    windows = []
    for number, line in enumerate([line for line in text.splitlines() if line.strip()], start=1):
        hours = re.search(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$", line)
        days = _split(line[: hours.start()] if hours else line)
        if not days:
            problems.add("on_call", f"line {number}: start with the days, e.g. mon-fri 18:00-08:00")
            continue
        window: dict[str, Any] = {"days": days}
        if hours:
            window["from"], window["to"] = (part.zfill(5) for part in hours.groups())
        windows.append(window)
    return windows


def _exceptions(text: str, problems: FormProblems) -> list[dict[str, Any]]:
    """``2026-10-01 .. 2026-10-07 off note`` lines as dated exceptions."""
    found = []
    for number, line in enumerate([line for line in text.splitlines() if line.strip()], start=1):
        match = re.fullmatch(
            r"\s*(\S+(?:[ T]\d{1,2}:\d{2})?)\s*\.\.\s*(\S+(?:[ T]\d{1,2}:\d{2})?)\s+(on|off)\b\s*(.*)", line
        )
        if match is None:
            problems.add(
                "exceptions", f"line {number}: write from .. to, then on or off, e.g. 2026-10-01 .. 2026-10-07 off"
            )
            continue
        start, end, state, note = match.groups()
        found.append({"from": start, "to": end, "on_call": state == "on", "note": note.strip()})
    return found


def _coordinates(field: str, text: str, problems: FormProblems) -> dict[str, float] | None:
    parts = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        problems.add(field, "write the latitude and longitude, e.g. 30.2741, 120.1551")
        return None
    return {"lat": lat, "lon": lon}


def _actions(text: str, problems: FormProblems) -> dict[str, str]:
    actions = {}
    for pair in [pair.strip() for pair in text.split(",") if pair.strip()]:
        action, equals, meaning = pair.partition("=")
        if not equals or not action.strip() or not meaning.strip():
            problems.add("actions", f"{pair!r} should look like long=cancel")
            continue
        actions[action.strip()] = meaning.strip()
    return actions


def _document(section: Section, raw: Mapping[str, str], problems: FormProblems) -> dict[str, Any]:
    """The directory-file entry these text values stand for (empty values left out)."""
    document: dict[str, Any] = {}
    for field in section.file_fields:
        value = raw.get(field.name, "").strip()
        if field.name == "tiers":
            document["tiers"] = _tiers(value, problems)
        elif field.name == "actions":
            document["actions"] = _actions(value, problems)
        elif field.name in ("areas", "inform"):
            document[field.name] = _split(value)
        elif field.name == "on_call":
            document["on_call"] = _windows(value, problems)
        elif field.name == "exceptions":
            document["exceptions"] = _exceptions(value, problems)
        elif field.kind == "checkbox":
            document[field.name] = value in ("on", "1", "true", "yes")
        elif value == "":
            continue
        elif field.name == "home":
            coordinates = _coordinates(field.name, value, problems)
            if coordinates is not None:
                document["home"] = coordinates
            continue
        elif field.kind == "number":
            if not re.fullmatch(r"\d+", value):
                problems.add(field.name, "must be a whole number")
                continue
            document[field.name] = int(value)
        else:
            document[field.name] = value
    return document


def _message(problem: Mapping[str, Any]) -> str:
    if problem["type"] == "string_pattern_mismatch":
        return "may only use letters, digits and _ . : - (at most 64)"
    if problem["type"] == "missing":
        return "is required"
    message = re.sub(r"^Value error, ", "", str(problem["msg"]))
    return message[:1].lower() + message[1:]


def parse_entry(section: Section, raw: Mapping[str, str]) -> tuple[file_model.Entry | None, FormProblems]:
    """The validated entry, or the problems by field."""
    problems = FormProblems()
    document = _document(section, raw, problems)
    try:
        entry = section.model.model_validate(document)
    except ValidationError as exc:
        for problem in exc.errors():
            location = [str(part) for part in problem["loc"]]
            field = location[0] if location and section.field(location[0]) else ""
            where = " ".join(f"tier {int(part) + 1}" if part.isdigit() else part for part in location[1:])
            problems.add(field, f"{where}: {_message(problem)}" if where else _message(problem))
        return None, problems
    return (entry, problems) if not problems else (None, problems)


# -- what the database already holds ----------------------------------------------------------


async def reference_problems(
    session: AsyncSession, section: Section, entries: Sequence[file_model.Entry], *, creating: bool
) -> FormProblems:
    """References to things that do not exist, and clashes with other entries: the directory's
    rules (``monitor.directory.rules``), against what the database holds."""
    problems = FormProblems()
    for problem in await database_problems(session, section.key, section.table, entries, creating=creating):
        problems.add(problem.key if section.field(problem.key) else "", problem.message)
    return problems


async def choices(session: AsyncSession, scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """(value, label) lists for the select fields that name other entries: those in ``scope``, retired
    ones left out."""
    areas = (
        await session.execute(
            select(models.Area.id, models.Area.name)
            .where(models.Area.active.is_(True), scope.area_rows())
            .order_by(models.Area.name)
        )
    ).all()
    residents = (
        await session.execute(
            select(models.Resident.id, models.Resident.name).where(scope.residents()).order_by(models.Resident.name)
        )
    ).all()
    policies = (
        await session.scalars(
            select(models.EscalationPolicy.id)
            .where(models.EscalationPolicy.active.is_(True), scope.policies())
            .order_by(models.EscalationPolicy.id)
        )
    ).all()
    organisations = (
        await session.execute(
            select(models.Organisation.id, models.Organisation.name)
            .where(scope.organisations())
            .order_by(models.Organisation.name)
        )
    ).all()
    return {
        "organisations": [("", "–"), *((owner_id, f"{name} ({owner_id})") for owner_id, name in organisations)],
        "areas": [(area_id, f"{name} ({area_id})") for area_id, name in areas],
        "residents": [(resident_id, f"{name} ({resident_id})") for resident_id, name in residents],
        "policies": [("", "default"), *((policy_id, policy_id) for policy_id in policies)],
        "protocols": [(protocol, protocol) for protocol in sorted(devices.registry())],
    }


# -- rows out ---------------------------------------------------------------------------------


async def raw_values(session: AsyncSession, section: Section, row: Any) -> dict[str, str]:
    """The form's text for an entry in the database."""
    if section.key == "residents":
        return {
            "id": row.id,
            "name": row.name,
            "address": row.address,
            "area": row.area_id,
            "phone": row.phone or "",
            "language": row.language,
            "notes": row.notes,
            "home": coordinates_text(row.home_lat, row.home_lon),
        }
    if section.key == "devices":
        return {
            "id": row.id,
            "resident": row.resident_id,
            "kind": row.kind,
            "protocol": row.protocol,
            "topic": row.topic,
            "serial": row.serial or "",
            "heartbeat_s": str(row.heartbeat_s),
            "actions": ", ".join(f"{action}={meaning}" for action, meaning in row.action_map.items()),
        }
    if section.key == "volunteers":
        areas = (
            await session.scalars(
                select(models.VolunteerArea.area_id)
                .where(models.VolunteerArea.volunteer_id == row.id)
                .order_by(models.VolunteerArea.area_id)
            )
        ).all()
        return {
            "id": row.id,
            "name": row.name,
            "phone": row.phone,
            "areas": ", ".join(areas),
            "language": row.language,
            "role": row.role,
            "timezone": row.timezone or "",
            "on_call": windows_text(row.schedule.get("on_call", [])),
            "exceptions": exceptions_text(row.schedule.get("exceptions", [])),
            "home": coordinates_text(row.home_lat, row.home_lon),
            "share_location": "on" if row.share_location else "",
            "voice": "yes" if row.voice else "no",
            "voice_hours": row.voice_hours or "",
            "organisation": row.organisation_id or "",
        }
    if section.key == "areas":
        return {
            "id": row.id,
            "name": row.name,
            "policy": row.policy_id or "",
            "organisation": row.organisation_id or "",
        }
    return {
        "id": row.id,
        "tiers": tiers_text(row.tiers),
        "repeat": str(row.repeat),
        "inform": ", ".join(row.inform),
        "organisation": row.organisation_id or "",
    }


def text_values(section: Section, document: Mapping[str, Any]) -> dict[str, str]:
    """A JSON entry (API, directory-file shape) as the form's text, to be checked the same way."""
    raw: dict[str, str] = {}
    for field in section.file_fields:
        value = document.get(field.name)
        if value is None:
            continue
        if field.name == "tiers" and isinstance(value, list):
            raw["tiers"] = tiers_text(tier for tier in value if isinstance(tier, dict) and "notify" in tier)
        elif field.name == "on_call" and isinstance(value, list):
            raw["on_call"] = windows_text(window for window in value if isinstance(window, dict))
        elif field.name == "exceptions" and isinstance(value, list):
            raw["exceptions"] = exceptions_text(exception for exception in value if isinstance(exception, dict))
        elif field.name == "home" and isinstance(value, dict):
            raw["home"] = coordinates_text(value.get("lat"), value.get("lon"))
        elif field.kind == "checkbox":
            raw[field.name] = "on" if value is True else ""
        elif field.name == "actions" and isinstance(value, dict):
            raw["actions"] = ", ".join(f"{action}={meaning}" for action, meaning in value.items())
        elif isinstance(value, list):
            raw[field.name] = ", ".join(str(item) for item in value)
        else:
            raw[field.name] = str(value)
    return raw


def tiers_text(tiers: Iterable[Mapping[str, Any]], separator: str = "\n") -> str:
    def line(tier: Mapping[str, Any]) -> str:
        nearest = f" ; nearest {tier.get('per_person_timeout_s', 60)}" if tier.get("order") == "nearest" else ""
        channels = tier.get("channels") or ["sms"]
        by = "" if list(channels) == ["sms"] else f" ; by {' '.join(channels)}"
        later = f" ; call after {tier['call_after_s']}" if tier.get("call_after_s") else ""
        return f"{', '.join(tier['notify'])} ; {tier.get('ack_timeout_s', 120)}{nearest}{by}{later}"

    return separator.join(line(tier) for tier in tiers)


def windows_text(windows: Iterable[Mapping[str, Any]]) -> str:
    """On-call windows (as the database or the file has them) as the form's lines."""
    lines = []
    for window in windows:
        days = window.get("days", [])
        names = day_names(days) if all(isinstance(day, int) for day in days) else ", ".join(map(str, days))
        start, end = window.get("from", "00:00"), window.get("to", "00:00")
        lines.append(names if start == end == "00:00" else f"{names} {start}-{end}")
    return "\n".join(lines)


def exceptions_text(exceptions: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(
        f"{e.get('from', '')} .. {e.get('to', '')} {'on' if e.get('on_call') else 'off'} {e.get('note', '')}".strip()
        for e in exceptions
    )


def coordinates_text(lat: object, lon: object) -> str:
    return f"{lat}, {lon}" if lat is not None and lon is not None else ""


async def export_csv(session: AsyncSession, section: Section, within: ColumnElement[bool]) -> str:
    """The section's entries matching ``within`` (the asker's scope) as CSV."""
    table: Any = section.table
    rows = (await session.scalars(select(table).where(within).order_by(table.id))).all()
    names = [field.name for field in section.file_fields] + ["active"]
    lines = []
    for row in rows:
        values = await raw_values(session, section, row)
        if isinstance(row, models.EscalationPolicy):
            values["tiers"] = tiers_text(row.tiers, " | ")
        values["active"] = "yes" if row.active else "no"  # read back as it is: a retired entry stays retired
        lines.append([values.get(name, "") for name in names])
    return write_csv(names, lines, phone_columns=PHONE_COLUMNS)


#: What a spreadsheet's ``active`` column may say (empty: active)
ACTIVE_WORDS = {
    "": True,
    "yes": True,
    "true": True,
    "1": True,
    "是": True,
    "no": False,
    "false": False,
    "0": False,
    "否": False,
}


@dataclass(frozen=True, slots=True)
class SheetEntry:
    #: the spreadsheet's row number
    number: int
    entry: file_model.Entry


#: A problem of a spreadsheet: the row it is in (0: the file as a whole) and its sentence
RowProblem = tuple[int, str]


def sheet_entries(section: Section, sheet: Sheet, source: str) -> tuple[list[SheetEntry], list[RowProblem]]:
    """The entries of a spreadsheet (``monitor.directory.spreadsheets``) whose columns are the
    section's keys, plus ``active``; every problem as one sentence naming the file (``source``),
    the row, the column and the fix."""
    known = [field.name for field in section.file_fields] + ["active"]
    unknown = [name for name in sheet.columns if name not in known]
    if unknown:
        return [], [(0, f"{source}: unknown column(s) {', '.join(unknown)}; name the columns {', '.join(known)}.")]
    if len(sheet.rows) > MAX_CSV_ROWS:
        return [], [(0, f"{source}: more than {MAX_CSV_ROWS} rows; split the file.")]
    entries: list[SheetEntry] = []
    problems: list[RowProblem] = []
    for row in sheet.rows:
        cells = dict(row.cells)
        active = ACTIVE_WORDS.get(cells.pop("active", "").strip().lower())
        for name in PHONE_COLUMNS & cells.keys():
            cells[name] = spreadsheet_phone(cells[name])
        entry, found = parse_entry(section, cells)
        if active is None:
            found.add("active", "write yes or no (empty: yes)")
        where = f'{source}: row {row.number} (id "{row.cells.get("id", "?")}")'
        problems += [
            (row.number, _row_sentence(where, field, message))
            for field, messages in found.items()
            for message in messages
        ]
        if entry is not None and active is not None:
            entries.append(SheetEntry(row.number, entry.model_copy(update={"active": active})))
    return entries, problems


async def sheet_reference_problems(
    session: AsyncSession, section: Section, rows: Sequence[SheetEntry], source: str
) -> list[RowProblem]:
    """The directory's rules (``monitor.directory.rules``) for a spreadsheet's entries against
    what the database holds, each problem naming the file and the row."""
    entries = [row.entry for row in rows]
    problems = [(0, f"{source}: {problem.sentence}.") for problem in duplicate_problems(section.key, entries)]
    known = await known_in_database(session, exclude={entry.id for entry in entries})
    for row in rows:
        where = f'{source}: row {row.number} (id "{row.entry.id}")'
        problems += [
            (row.number, _row_sentence(where, problem.key, problem.message))
            for problem in entry_problems(row.entry, known)
        ]
    return problems


async def spreadsheet_directory(database: Database, section: Section, data: bytes, source: str) -> file_model.Directory:
    """A CSV file's or .xlsx workbook's rows (``source``: its name) as a directory of ``section``,
    checked by the directory's rules against the database; else a UserError listing every
    rejected row in row order, one sentence a line, and nothing is imported."""
    sheet = read_sheet(data, source, prefer_sheet=section.key)
    rows, problems = sheet_entries(section, sheet, source)
    if rows:
        async with database.read() as session:
            problems += await sheet_reference_problems(session, section, rows, source)
    elif not problems:
        problems = [(0, f"{source}: no rows below the header row; add the entries to import.")]
    if problems:
        raise UserError("\n".join(sentence for _, sentence in sorted(problems, key=lambda problem: problem[0])))
    return file_model.Directory.model_validate({section.key: [row.entry.model_dump() for row in rows]})


def _row_sentence(where: str, column: str, message: str) -> str:
    fix = "; fill it in" if message == "is required" else ""
    return f"{where}, column {column}: {message}{fix}." if column else f"{where}: {message}{fix}."


# -- the resident's care card -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardValues:
    #: the resident's family contacts (``monitor.oncall.family``); language None: the resident's
    contacts: list[file_model.FamilyContact]
    camera_url: str | None
    camera_consent: bool
    key_safe_code: str | None = None


def parse_card(raw: Mapping[str, str], problems: FormProblems) -> CardValues:
    contacts = []
    for number, line in enumerate([line for line in raw.get("emergency_contacts", "").splitlines() if line.strip()], 1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) not in (3, 4) or not parts[0]:
            problems.add("emergency_contacts", f"line {number}: write name | relation | phone | language")
            continue
        try:
            phone = file_model.normalize_phone(parts[2])
        except ValueError as exc:
            problems.add("emergency_contacts", f"line {number}: phone {exc}")
            continue
        language = parts[3].lower() if len(parts) == 4 and parts[3] else None
        if language not in (None, "zh", "en"):
            problems.add("emergency_contacts", f"line {number}: language must be zh or en")
            continue
        contacts.append(
            file_model.FamilyContact.model_validate(
                {"name": parts[0], "relationship": parts[1], "phone": phone, "language": language}
            )
        )
    camera_url = raw.get("camera_url", "").strip() or None
    if camera_url and not re.match(r"^https?://[^\s]+$", camera_url):
        problems.add("camera_url", "must be an http(s) address")
    consent = raw.get("camera_consent", "") in ("on", "1", "true", "yes")
    if consent and not camera_url:
        problems.add("camera_url", "give the camera's address, or untick the consent")
    key_safe_code = raw.get("key_safe_code", "").strip()[:64] or None
    return CardValues(contacts=contacts, camera_url=camera_url, camera_consent=consent, key_safe_code=key_safe_code)


def card_raw(card: Mapping[str, Any]) -> dict[str, str]:
    """A JSON card (API) as the form's text."""
    contacts = card.get("emergency_contacts") or []
    return {
        "emergency_contacts": card_text(contacts if isinstance(contacts, list) else []),
        "camera_url": str(card.get("camera_url") or ""),
        "camera_consent": "on" if card.get("camera_consent") is True else "",
        "key_safe_code": str(card.get("key_safe_code") or ""),
    }


def card_text(contacts: Iterable[Mapping[str, Any]]) -> str:
    """Contacts (as ``monitor.oncall.family.contact_json`` gives them) as the form's lines."""
    return "\n".join(
        " | ".join(str(c.get(key) or "") for key in ("name", "relation", "phone", "language")).rstrip(" |")
        for c in contacts
    )
