"""Directory entries for supervision: heartbeats, check-ins, safe zones, policies per kind.
Every mistake is one sentence naming the file, the entry and the key."""

from __future__ import annotations

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
timezone = "Asia/Shanghai"
checkin_by = "10:00"

[[residents]]
id = "r-2"
name = "Margaret Chen"
area = "a-1"
safe_zone = { lat = 30.2741, lon = 120.1551, radius_m = 300, region = "home" }

[[devices]]
id = "chk-1"
resident = "r-1"
kind = "checkin_button"
protocol = "zigbee2mqtt"

[[devices]]
id = "phone-2"
resident = "r-2"
kind = "gps_phone"
protocol = "owntracks"
heartbeat_s = 900

[[devices]]
id = "btn-1"
resident = "r-1"
protocol = "native"

[[policies]]
id = "default"
tiers = [{ notify = ["area"] }]

[[policies]]
id = "knock-first"
kinds = ["missed_checkin"]
tiers = [{ notify = ["area"], ack_timeout_s = 600 }, { notify = ["role:leader"] }]
"""
)


def test_supervision_entries_load(tmp_path: Path) -> None:
    directory = loaded(tmp_path, DIRECTORY)
    heartbeats = {device.id: device.heartbeat_interval_s for device in directory.devices}
    assert heartbeats == {"chk-1": 12 * 3600, "phone-2": 900, "btn-1": 300}  # family defaults unless given
    wang, margaret = directory.residents
    assert (wang.timezone, wang.checkin_by) == ("Asia/Shanghai", "10:00")
    assert margaret.safe_zone is not None and margaret.safe_zone.region == "home"
    assert directory.policies[1].kinds == ["missed_checkin"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('checkin_by = "10:00"', 'checkin_by = "25:00"', 'residents[0] (id "r-1"): checkin_by must be a time of day'),
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', 'residents[0] (id "r-1"): timezone is not a known'),
        ("radius_m = 300, ", "", 'residents[1] (id "r-2"): safe_zone needs lat, lon and radius_m together'),
        ("radius_m = 300", "radius_m = -5", 'residents[1] (id "r-2"): safe_zone.radius_m '),
        ("lat = 30.2741", "lat = 130.2741", 'residents[1] (id "r-2"): safe_zone.lat '),
        ('region = "home"', 'regoin = "home"', 'residents[1] (id "r-2"): safe_zone.regoin is not a known key'),
        ("heartbeat_s = 900", "heartbeat_s = -1", 'devices[1] (id "phone-2"): heartbeat_s '),
        (
            'kinds = ["missed_checkin"]',
            'kinds = ["low_battery"]',
            'policies[1] (id "knock-first"): kinds names "low_battery", a device-health alert',
        ),
        ('kinds = ["missed_checkin"]', 'kinds = ["sos"]', "sos and fall follow the area's policy"),
        (
            'kind = "gps_phone"',
            'kind = "button"',
            'residents[1] (id "r-2"): safe_zone needs a device of kind "gps_phone"',
        ),
        ('tiers = [{ notify = ["area"] }]', 'kinds = ["missed_checkin"]\ntiers = [{ notify = ["area"] }]', "kinds"),
    ],
)
def test_mistakes_name_file_entry_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in DIRECTORY
    message = refusal(tmp_path, DIRECTORY.replace(old, new, 1))
    assert expected in message and "\n" not in message, message


def test_a_zone_may_be_the_devices_own_region_only(tmp_path: Path) -> None:
    text = DIRECTORY.replace("lat = 30.2741, lon = 120.1551, radius_m = 300, ", "")
    [_, margaret] = loaded(tmp_path, text).residents
    assert margaret.safe_zone is not None and margaret.safe_zone.radius_m is None


def test_the_example_directory_and_its_commented_entries_are_valid(tmp_path: Path) -> None:
    assert any(resident.checkin_by for resident in loaded(tmp_path, example()).residents)
    directory = loaded(tmp_path, example(with_commented_entries=True))
    assert any(resident.safe_zone for resident in directory.residents)
    assert any(device.kind == "checkin_button" for device in directory.devices)
    assert any(policy.kinds for policy in directory.policies)
