"""The directory's voice keys: tiers that call (``channels``, ``call_after_s``), volunteers who may
not be called or only at night (``voice``, ``voice_hours``); each mistake one sentence naming file,
entry and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.oncall.calls import parse_call_hours
from tests.directory.kit import ONE_AREA, loaded, refusal

DIRECTORY = (
    ONE_AREA
    + """
[[volunteers]]
id = "v-1"
name = "Li Ming"
phone = "+8613900000001"
areas = ["a-1"]
timezone = "Asia/Shanghai"
voice_hours = "22:00-07:00"

[[volunteers]]
id = "v-2"
name = "Zhao Lei"
phone = "+8613900000002"
areas = ["a-1"]
voice = false

[[policies]]
id = "default"
tiers = [
  { notify = ["area"], ack_timeout_s = 120, call_after_s = 60 },
  { notify = ["role:leader"], ack_timeout_s = 300, channels = ["sms", "voice"] },
]
"""
)


def test_tiers_that_call_and_volunteers_preferences_load(tmp_path: Path) -> None:
    directory = loaded(tmp_path, DIRECTORY)
    first, second = directory.policies[0].tiers
    assert (first.channels, first.call_after_s) == (["sms"], 60)
    assert (second.channels, second.call_after_s) == (["sms", "voice"], None)
    li, zhao = directory.volunteers
    assert (li.voice, li.voice_hours) == (True, "22:00-07:00")
    assert (zhao.voice, zhao.voice_hours) == (False, None)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "ack_timeout_s = 120, call_after_s = 60",
            "ack_timeout_s = 120, call_after_s = 120",
            'policies[0] (id "default"): tiers[0] call_after_s (120) must be shorter than ack_timeout_s (120)',
        ),
        (
            'ack_timeout_s = 300, channels = ["sms", "voice"]',
            'ack_timeout_s = 300, channels = ["sms", "voice"], call_after_s = 30',
            'policies[0] (id "default"): tiers[1] call_after_s calls those who have not answered, but channels '
            "already calls everyone at once",
        ),
        (
            "ack_timeout_s = 120, call_after_s = 60",
            'ack_timeout_s = 120, call_after_s = 50, order = "nearest", per_person_timeout_s = 45',
            "call_after_s (50) must be shorter than per_person_timeout_s (45)",
        ),
        ("call_after_s = 60", "call_after_s = 2", "tiers[0].call_after_s input should be greater than or equal to 5"),
        (
            'channels = ["sms", "voice"]',
            'channels = ["sms", "Voice"]',
            'tiers[1].channels names "Voice"; a channel is a lowercase word',
        ),
        (
            'voice_hours = "22:00-07:00"',
            'voice_hours = "10pm-7am"',
            'volunteers[0] (id "v-1"): voice_hours must be two times of day as "HH:MM-HH:MM"',
        ),
        (
            'voice_hours = "22:00-07:00"',
            'voice_hours = "22:00-22:00"',
            'volunteers[0] (id "v-1"): voice_hours starts and ends at the same time',
        ),
        (
            "voice = false",
            'voice = false\nvoice_hours = "22:00-07:00"',
            'volunteers[1] (id "v-2"): voice_hours has no use with voice = false',
        ),
        ("voice = false", 'voice = "never"', 'volunteers[1] (id "v-2"): voice input should be a valid boolean'),
    ],
)
def test_mistakes_are_one_sentence_naming_file_entry_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DIRECTORY
    message = refusal(tmp_path, DIRECTORY.replace(old, new, 1))
    assert expected in message, message
    assert len(message.splitlines()) == 1
    assert message.endswith(".")


@pytest.mark.parametrize(
    ("utc", "inside"),
    [
        (datetime(2026, 12, 7, 13, 59, tzinfo=UTC), False),  # 21:59 in Shanghai
        (datetime(2026, 12, 7, 14, 0, tzinfo=UTC), True),  # 22:00
        (datetime(2026, 12, 7, 18, 0, tzinfo=UTC), True),  # 02:00 the next morning
        (datetime(2026, 12, 7, 22, 59, tzinfo=UTC), True),  # 06:59
        (datetime(2026, 12, 7, 23, 0, tzinfo=UTC), False),  # 07:00
    ],
)
def test_voice_hours_run_past_midnight_in_the_volunteers_zone(utc: datetime, inside: bool) -> None:
    assert parse_call_hours("22:00-07:00").contains(utc, ZoneInfo("Asia/Shanghai")) is inside
