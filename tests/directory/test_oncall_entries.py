"""The directory's on-call additions: schedules, family contacts, home places, volunteers' phones,
"family" tiers and inform lists, "nearest" tiers; each mistake one sentence naming file, entry
and key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.directory.kit import ONE_AREA, example, loaded, refusal

DIRECTORY = (
    ONE_AREA
    + """
[[residents]]
id = "r-1"
name = "Wang Xiuying"
area = "a-1"
language = "zh"
home = { lat = 30.2741, lon = 120.1551 }
family = [
  { name = "Wang Lei", phone = "+86 137 0000 0001", relationship = "son" },
  { name = "Amy Wang", phone = "+447700900001", relationship = "granddaughter", language = "en" },
]

[[devices]]
id = "btn-1"
resident = "r-1"

[[devices]]
id = "phone-v-1"
volunteer = "v-1"
protocol = "owntracks"
topic = "owntracks/liming/phone"

[[volunteers]]
id = "v-1"
name = "Li Ming"
phone = "+8613900000001"
areas = ["a-1"]
timezone = "Asia/Shanghai"
on_call = [
  { days = ["mon-fri"], from = "18:00", to = "08:00" },
  { days = ["weekends"] },
]
exceptions = [
  { from = 2026-10-01, to = 2026-10-07, on_call = false, note = "holiday" },
  { from = "2026-10-10 18:00", to = "2026-10-11 08:00", on_call = true, note = "swap" },
]
home = { lat = 30.28, lon = 120.16 }
share_location = true

[[policies]]
id = "default"
tiers = [
  { notify = ["area"], order = "nearest", per_person_timeout_s = 45, ack_timeout_s = 60 },
  { notify = ["family"], ack_timeout_s = 300 },
]
"""
)


def test_schedules_family_places_and_phones_load(tmp_path: Path) -> None:
    directory = loaded(tmp_path, DIRECTORY)
    [resident], [volunteer] = directory.residents, directory.volunteers
    assert resident.home is not None and resident.family is not None
    assert [(c.phone, c.language) for c in resident.family] == [("+8613700000001", None), ("+447700900001", "en")]
    schedule = volunteer.schedule_json()
    assert schedule["on_call"] == [
        {"days": [0, 1, 2, 3, 4], "from": "18:00", "to": "08:00"},
        {"days": [5, 6], "from": "00:00", "to": "00:00"},
    ]
    # a date "to" includes that whole day; a date-time is exact
    assert [(e["from"], e["to"], e["on_call"]) for e in schedule["exceptions"]] == [
        ("2026-10-01T00:00", "2026-10-08T00:00", False),
        ("2026-10-10T18:00", "2026-10-11T08:00", True),
    ]
    [_, phone] = directory.devices
    assert (phone.volunteer, phone.resident) == ("v-1", None)
    assert directory.policies[0].tiers[0].order == "nearest"


def test_a_toml_date_time_is_a_local_time(tmp_path: Path) -> None:
    text = DIRECTORY.replace(
        'from = "2026-10-10 18:00", to = "2026-10-11 08:00"', "from = 2026-10-10T18:00:00, to = 2026-10-11T08:00:00"
    )
    [volunteer] = loaded(tmp_path, text).volunteers
    assert volunteer.exceptions[1].start == datetime(2026, 10, 10, 18, 0)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'from = "18:00", to = "08:00"',
            'from = "18:00", to = "8am"',
            'volunteers[0] (id "v-1"): on_call[0].to must be a time of day as "HH:MM"',
        ),
        (
            'days = ["weekends"]',
            'days = ["someday"]',
            "volunteers[0] (id \"v-1\"): on_call[1].days 'someday' is not a day",
        ),
        (
            "to = 2026-10-07, on_call = false",
            "to = 2026-09-30, on_call = false",
            'volunteers[0] (id "v-1"): exceptions[0] to must come after from',
        ),
        (
            'from = "2026-10-10 18:00"',
            'from = "soon"',
            'volunteers[0] (id "v-1"): exceptions[1].from must be a local date like 2026-10-01',
        ),
        (", on_call = false,", ",", 'volunteers[0] (id "v-1"): exceptions[0].on_call is required; add it.'),
        (
            'timezone = "Asia/Shanghai"',
            'timezone = "Mars/Olympus"',
            'volunteers[0] (id "v-1"): timezone is not a known',
        ),
        (
            "share_location = true",
            "share_location = false",
            'devices[1] (id "phone-v-1"): volunteer "v-1" has not agreed',
        ),
        ('volunteer = "v-1"', 'volunteer = "v-1"\nresident = "r-1"', 'devices[1] (id "phone-v-1"): give resident'),
        ('volunteer = "v-1"', 'volunteer = "v-7"', 'devices[1] (id "phone-v-1"): volunteer "v-7" does not exist'),
        ('protocol = "owntracks"', 'protocol = "tasmota"', 'devices[1] (id "phone-v-1"): protocol "tasmota" cannot be'),
        ('order = "nearest"', 'order = "closest"', 'policies[0] (id "default"): tiers[0].order input should be'),
        (
            'notify = ["family"], ack_timeout_s = 300 },\n]',
            'notify = ["family"], ack_timeout_s = 300 },\n]\ninform = ["family"]',
            'policies[0] (id "default"): inform: "family" is also a tier target of this policy',
        ),
        (
            'notify = ["family"], ack_timeout_s = 300 },\n]',
            'notify = ["role:leader"] },\n]\ninform = ["area"]',
            'inform names "area"',
        ),
        ("+86 137 0000 0001", "12345", 'residents[0] (id "r-1"): family[0].phone must be an international number'),
        (
            '"+447700900001"',
            '"+86 137 0000 0001"',
            'residents[0] (id "r-1"): family: phone "+8613700000001" is listed 2 times',
        ),
        (
            "home = { lat = 30.2741, lon = 120.1551 }",
            "home = { lat = 91, lon = 120 }",
            'residents[0] (id "r-1"): home.lat',
        ),
    ],
)
def test_mistakes_are_one_sentence_naming_file_entry_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DIRECTORY
    message = refusal(tmp_path, DIRECTORY.replace(old, new, 1))
    assert expected in message, message
    assert all(line.endswith(".") for line in message.splitlines())


def test_the_example_s_commented_on_call_entries_are_valid(tmp_path: Path) -> None:
    directory = loaded(tmp_path, example(with_commented_entries=True))
    [li_ming] = [volunteer for volunteer in directory.volunteers if volunteer.id == "v-01"]
    assert li_ming.on_call and li_ming.exceptions and li_ming.share_location and li_ming.home
    assert any(device.volunteer == "v-01" for device in directory.devices)
    assert any(resident.family for resident in directory.residents)
    assert any(tier.order == "nearest" for policy in directory.policies for tier in policy.tiers)
    assert any("family" in tier.notify for policy in directory.policies for tier in policy.tiers)
