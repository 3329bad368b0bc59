"""`callwatch acl`'s rules: every device's own topics are exactly the monitor's subscriptions
narrowed to it, no two devices share one, bridges publish for their families, and the
password file keeps what it should across runs. (Against a real Mosquitto:
tests/system/reliability/test_mqtt_security.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiomqtt import Topic

import devices
from devices.base import DeviceMessage, DeviceProfile
from monitor.broker.acl import (
    Account,
    AclError,
    accounts,
    acl_text,
    credentials,
    hash_password,
    own_filters,
    parse_password_file,
    password_file_text,
    password_matches,
)
from monitor.broker.files import write_files
from monitor.ingest.routes import Routes

#: Two devices of each family, as installers name them.
TOPICS = {
    "native": ["callwatch/btn-1", "callwatch/btn-2"],
    "owntracks": ["owntracks/wang/phone", "owntracks/li/phone"],
    "zigbee2mqtt": ["zigbee2mqtt/hall_button", "zigbee2mqtt/bed_button"],
    "tasmota": ["bedside", "kitchen"],
    "shelly": ["shellies/button1-a", "shellies/button1-b"],
    "shelly_gen2": ["shellyplusi4-a", "shellyplusi4-b"],
    "traccar": ["events", "events"],
}


def fleet() -> list[tuple[str, DeviceProfile]]:
    return [
        (protocol, DeviceProfile(device_id=f"{protocol}-{index}", kind="button", topic=topic, serial=f"SN{index}"))
        for protocol, topics in TOPICS.items()
        for index, topic in enumerate(topics)
    ]


def sample(topic_filter: str) -> str:
    return "/".join("0" if level in ("+", "#") else level for level in topic_filter.split("/"))


def test_every_family_is_covered_here() -> None:
    assert set(TOPICS) == set(devices.registry())


def test_a_device_publishes_only_what_the_monitor_reads_for_it_and_nothing_of_its_siblings() -> None:
    every = fleet()
    monitor_reads = Routes.for_devices(every).subscriptions
    made = {account.username: account for account in accounts(every, "callwatch-monitor")}
    for protocol, profile in every:
        if protocol in ("zigbee2mqtt", "traccar"):
            continue  # bridged: no account of their own
        own = made[profile.device_id]
        adapter = devices.registry()[protocol]
        for topic_filter in own.publish:
            topic = sample(topic_filter)
            assert any(Topic(topic).matches(read) for read in monitor_reads), topic
            located = adapter.locate(DeviceMessage(topic, b"", False, datetime.now(UTC)))
            assert located == adapter.device_ref(profile)
        siblings = [other for other_protocol, other in every if other_protocol == protocol and other != profile]
        for sibling in siblings:
            for topic_filter in made[sibling.device_id].publish:
                assert not any(Topic(sample(topic_filter)).matches(mine) for mine in own.publish)


def test_the_monitor_reads_everything_and_writes_only_feedback_bridges_publish_their_family() -> None:
    every = fleet()
    made = {account.username: account for account in accounts(every, "callwatch-monitor")}
    monitor = made["callwatch-monitor"]
    assert set(monitor.subscribe) == Routes.for_devices(every).subscriptions
    assert monitor.publish == ("callwatch/btn-1/feedback", "callwatch/btn-2/feedback")
    assert made["native-0"].subscribe == ("callwatch/btn-1/feedback",)
    assert made["zigbee2mqtt-bridge-zigbee2mqtt"].publish == ("zigbee2mqtt/+", "zigbee2mqtt/+/availability")
    assert made["traccar-forwarder-events"].publish == ("events",)
    text = acl_text(made.values(), datetime(2026, 1, 1, tzinfo=UTC))
    assert "user native-0\ntopic write callwatch/btn-1/event\ntopic write callwatch/btn-1/status" in text


def test_names_mosquitto_cannot_take_are_refused() -> None:
    profile = DeviceProfile(device_id="btn:1", kind="button", topic="callwatch/btn:1")
    with pytest.raises(AclError, match="holds ':', which Mosquitto's password file uses"):
        accounts([("native", profile)], "callwatch-monitor")
    adapter = devices.registry()["traccar"]
    with pytest.raises(AclError, match="shared by all devices"):
        own_filters(adapter, DeviceProfile(device_id="t", kind="gps_phone", topic="events", serial="1"))


def test_passwords_are_kept_made_and_dropped_as_the_directory_changes() -> None:
    every = fleet()
    first = credentials(accounts(every, "mon"), {}, ("mon", "monitor-secret"))
    assert set(first.new_passwords) == {account.username for account in accounts(every, "mon")} - {"mon"}
    assert password_matches("monitor-secret", first.hashes["mon"])
    stored = parse_password_file(password_file_text(first.hashes))
    assert stored == first.hashes

    fewer = [(protocol, profile) for protocol, profile in every if profile.device_id != "native-1"]
    second = credentials(accounts(fewer, "mon"), stored, ("mon", "monitor-secret"))
    assert second.new_passwords == {}
    assert second.removed == ("native-1",)
    assert second.hashes == {user: stored[user] for user in second.hashes}  # the same hashes, monitor's too

    rotated = credentials(accounts(fewer, "mon"), stored, ("mon", "a-new-secret"))
    assert password_matches("a-new-secret", rotated.hashes["mon"]) and rotated.hashes["native-0"] == stored["native-0"]


def test_hashes_are_mosquittos_pbkdf2_format() -> None:
    stored = hash_password("secret", salt=b"0123456789ab", iterations=101)
    kind, iterations, salt, digest = stored.split("$")[1:]
    assert (kind, iterations, salt) == ("7", "101", "MDEyMzQ1Njc4OWFi")
    assert len(digest) == 88  # 64 bytes of SHA-512, base64
    assert password_matches("secret", stored) and not password_matches("Secret", stored)


#: the issue's topic: three lines of ACL where one was asked for
INJECTION = "cam/inj\ntopic write callwatch/btn-01/event\nuser x"


@pytest.mark.parametrize(
    "topic",
    [INJECTION, "site\t2/dev-tab2", "cam/inj\rtopic", "cam/inj\u2028x", "callwatch/btn-9 ", " callwatch/btn-9"],
)
def test_a_device_row_that_slipped_past_the_directory_is_refused_by_name(topic: str) -> None:
    """A topic in the database that the directory would refuse today (saved before the check existed)."""
    hostile = ("native", DeviceProfile(device_id="cam-inj", kind="button", topic=topic))
    with pytest.raises(AclError, match=r"native device 'cam-inj': .*fix the topic in the directory"):
        accounts([*fleet(), hostile], "callwatch-monitor")


@pytest.mark.parametrize(
    ("account", "refused"),
    [
        (Account("cam-inj", (INJECTION,), (), "native device cam-inj"), "U\\+000A"),
        (Account("cam-inj", (), ("callwatch/+/event\n",), "native device cam-inj"), "U\\+000A"),
        (Account("x\nuser callwatch-monitor", ("a/b",), (), "native device x"), "the user name"),
        (Account("btn 1", ("a/b",), (), "native device x"), "holds a space"),
        (Account("btn-1", ("a/b",), (), "native device btn-1\ntopic write #"), "the comment"),
        (Account("btn-1", ("a/b ",), (), "native device btn-1"), "starts or ends with a space"),
    ],
)
def test_the_acl_writer_refuses_a_line_break_whatever_its_caller(account: Account, refused: str) -> None:
    """Called directly, not from the directory: still no value that Mosquitto would read as more than one line."""
    monitor = Account("callwatch-monitor", (), ("callwatch/+/event",), "the monitor")
    with pytest.raises(AclError, match=refused):
        acl_text([monitor, account], datetime(2026, 1, 1, tzinfo=UTC))


def test_the_password_file_refuses_names_that_would_not_read_back() -> None:
    for user in ("x\nmallory", "x:y", "#x", "x y", ""):
        with pytest.raises(AclError, match="the user name"):
            password_file_text({user: hash_password("secret", iterations=101)})
    with pytest.raises(AclError, match="stored password hash"):
        password_file_text({"btn-1": "$7$101$a$b\nmallory:$7$101$a$b"})


def test_a_refused_account_leaves_both_files_as_they_were(tmp_path: Path) -> None:
    good = accounts(fleet(), "callwatch-monitor")
    write_files(good, ("callwatch-monitor", "monitor-secret"), tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    hostile = Account("cam-inj", (INJECTION,), (), "native device cam-inj")
    with pytest.raises(AclError):
        write_files([*good, hostile], ("callwatch-monitor", "monitor-secret"), tmp_path)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
