"""A device's topic, serial and id as the one directory validation checks them, for the file,
the console's forms, the API and CSV alike (issue #20, finding 1): what reaches the broker
follows MQTT's rules and more (``devices.topics``), and so does every subscription and
feedback topic its family makes from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import devices
from devices.topics import topic_filter_problem, topic_problem
from monitor.core.errors import ConfigError
from monitor.directory.file import load_directory
from monitor.directory.model import Device
from tests.broker.mosquitto_model import hostile_text, hostile_topic
from tests.directory.kit import ONE_AREA

DIRECTORY = (
    ONE_AREA
    + """
[[residents]]
id = "r-1"
name = "Wang"
area = "a-1"

[[policies]]
id = "default"
tiers = [{{ notify = ["area"], ack_timeout_s = 60 }}]

[[devices]]
id = "btn-1"
resident = "r-1"

[[devices]]
id = "{device_id}"
resident = "r-1"
protocol = "{protocol}"
{extra}
"""
)


def problems(**document: object) -> dict[str, str]:
    try:
        Device.model_validate({"resident": "r-1", **document})
    except ValidationError as exc:
        return {".".join(map(str, error["loc"])): error["msg"].removeprefix("Value error, ") for error in exc.errors()}
    return {}


def test_the_issues_topics_are_refused_beside_the_key() -> None:
    assert problems(id="dev-tab2", topic="site\t2/dev-tab2") == {
        "topic": "holds the control or invisible character U+0009"
    }
    assert problems(id="cam", topic="cam/inj\ntopic write callwatch/btn-01/event\nuser x") == {
        "topic": "holds the control or invisible character U+000A"
    }


def test_serials_and_ids_that_reach_the_broker_or_its_files_are_checked_too() -> None:
    assert problems(id="w-1", protocol="traccar", serial="8680\nuser x") == {
        "serial": "holds the control or invisible character U+000A"
    }
    assert problems(id="btn:1") == {
        "id": "holds ':', which Mosquitto's password file uses between name and password "
        "(a device's id is its broker account's name)"
    }
    assert problems(id="btn-1", topic="callwatch/btn-1 ") == {"topic": "starts or ends with a space"}
    assert problems(id="btn-1", topic="$share/g/btn-1") == {
        "topic": "starts with '$', which belongs to the broker ($SYS, $share)"
    }


def test_a_long_topic_is_refused_by_what_its_family_makes_of_it() -> None:
    """252 bytes are fine for the topic, not for the ``<parent>/+/availability`` made from it."""
    topic = "z" * 250 + "/hall"
    message = problems(id="hall", protocol="zigbee2mqtt", topic=topic)["topic"]
    assert (
        message
        == f"makes the subscription {'z' * 250 + '/+/availability'!r}, which is 265 bytes long in UTF-8, more than 256"
    )
    assert problems(id="hall", protocol="zigbee2mqtt", topic="z" * 200 + "/hall") == {}


def test_plain_topics_of_every_family_stay_accepted() -> None:
    for protocol in devices.registry():
        assert problems(id="dev-1", protocol=protocol, serial="868003031234567") == {}, protocol
    assert problems(id="hall", protocol="zigbee2mqtt", topic="zigbee2mqtt/living room 家") == {}


def test_the_file_names_the_entry_and_the_key_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(DIRECTORY.format(device_id="dev-tab2", protocol="native", extra='topic = "site\\t2/dev-tab2"'))
    with pytest.raises(ConfigError) as refused:
        load_directory(path)
    assert str(refused.value) == (
        f'{path}: devices[1] (id "dev-tab2"): topic holds the control or invisible character U+0009; fix it.'
    )


@settings(max_examples=100, deadline=None)
@given(
    document=st.fixed_dictionaries(
        {
            "id": st.one_of(st.just("dev-1"), hostile_text(max_size=20)),
            "protocol": st.sampled_from(sorted(devices.registry())),
        },
        optional={"topic": hostile_topic(), "serial": hostile_text(max_size=40)},
    )
)
def test_an_accepted_device_gives_the_broker_only_what_it_takes(document: dict[str, str]) -> None:
    """Any text at all is refused with a ValidationError, or makes a topic, subscriptions and a
    feedback topic that pass the broker's rules (the property against the real broker and the
    ACL: tests/broker/test_topic_properties.py)."""
    try:
        device = Device.model_validate({"resident": "r-1", **document})
    except ValidationError:
        return
    adapter = devices.registry()[device.protocol]
    profile = device.profile()
    assert topic_problem(profile.topic) is None
    assert [topic_filter_problem(f) for f in adapter.topic_filters(profile)] == [None] * len(
        adapter.topic_filters(profile)
    )
    feedback = adapter.feedback_topic(profile)
    assert feedback is None or topic_problem(feedback) is None
