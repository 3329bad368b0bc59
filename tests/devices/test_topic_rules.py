"""The one check of topics, filters and broker user names (``devices.topics``) is stricter than
Mosquitto: whatever it lets through, the broker takes, and Mosquitto's line-based files read
back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import devices
from devices.topics import (
    MAX_TOPIC_BYTES,
    serial_problem,
    text_problem,
    topic_filter_problem,
    topic_problem,
    user_name_problem,
)
from tests.broker.mosquitto_model import C_SPACE, hostile_text, hostile_topic, takes_subscription
from tests.devices.test_adapter_properties import FAMILIES


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("site\t2/dev-tab2", "holds the control or invisible character U+0009"),
        ("cam/inj\ntopic write callwatch/btn-01/event\nuser x", "holds the control or invisible character U+000A"),
        ("cam/\x00", "holds the control or invisible character U+0000"),
        ("cam/\x85", "holds the control or invisible character U+0085"),
        ("cam/\u2028x", "holds the separator U+2028 (only the plain space may separate words)"),
        ("cam/\u00a0x", "holds the separator U+00A0 (only the plain space may separate words)"),
        ("cam/\u202ex", "holds the control or invisible character U+202E"),
        ("cam/\ufffe", "holds the control or invisible character U+FFFE"),
        ("cam/\ud800", "is not valid UTF-8 (it holds the lone surrogate U+D800)"),
        ("callwatch/btn-1 ", "starts or ends with a space"),
        ("", "is empty"),
        ("callwatch/+", "holds + or #, which are wildcards (a device's topic names one place)"),
        ("callwatch/#", "holds + or #, which are wildcards (a device's topic names one place)"),
        ("$SYS/broker", "starts with '$', which belongs to the broker ($SYS, $share)"),
        ("$share/g/x", "starts with '$', which belongs to the broker ($SYS, $share)"),
        ("/callwatch/btn-1", "has an empty level (a '/' at either end, or '//')"),
        ("callwatch//btn-1", "has an empty level (a '/' at either end, or '//')"),
        ("a/" * 32 + "b", "has 33 levels, more than 32"),
        ("家" * 86, "is 258 bytes long in UTF-8, more than 256"),
    ],
)
def test_what_a_device_topic_may_not_be(topic: str, problem: str) -> None:
    assert topic_problem(topic) == problem


@pytest.mark.parametrize("topic", ["callwatch/btn-1", "zigbee2mqtt/living room button", "家/按钮-1", "a" * 256])
def test_what_it_may_be(topic: str) -> None:
    assert topic_problem(topic) is None


def test_every_familys_own_topics_and_filters_pass() -> None:
    for protocol, (profile, topics) in FAMILIES.items():
        adapter = devices.registry()[protocol]
        assert [topic_problem(topic) for topic in topics] == [None] * len(topics)
        assert [topic_filter_problem(f) for f in adapter.topic_filters(profile)] == [None] * len(
            adapter.topic_filters(profile)
        )
        assert topic_problem(adapter.default_topic("btn-0001.a:b_c")) is None


@pytest.mark.parametrize(
    ("topic_filter", "problem"),
    [
        ("a/#/b", "has # before its last level (# may only stand for the rest of a topic)"),
        ("a/b+/c", "has a wildcard inside the level 'b+' (+ and # must fill a whole level)"),
        ("a/b#", "has a wildcard inside the level 'b#' (+ and # must fill a whole level)"),
        ("site\t2/+/event", "holds the control or invisible character U+0009"),
    ],
)
def test_what_a_filter_may_not_be(topic_filter: str, problem: str) -> None:
    assert topic_filter_problem(topic_filter) == problem
    assert topic_filter_problem("callwatch/+/event") is None and topic_filter_problem("zigbee2mqtt/#") is None


def test_user_names_and_serials() -> None:
    assert user_name_problem("btn-1") is None and user_name_problem("callwatch-monitor") is None
    assert user_name_problem("btn:1") == "holds ':', which Mosquitto's password file uses between name and password"
    assert user_name_problem("#btn") == "starts with '#', which Mosquitto reads as a comment"
    assert user_name_problem("btn 1") == "holds a space (a broker user name is one word)"
    assert user_name_problem("x\nuser y") == "holds the control or invisible character U+000A"
    assert serial_problem("868003031234567") is None
    assert serial_problem("8680\r\n") == "holds the control or invisible character U+000D"
    assert serial_problem("8" * 129) == "is longer than 128 characters"


@settings(max_examples=100, deadline=None)
@given(text=st.one_of(hostile_topic(), hostile_text(max_size=60)))
def test_what_passes_the_check_mosquitto_takes_and_its_files_read_back(text: str) -> None:
    if topic_filter_problem(text) is None:
        assert takes_subscription(text)
        assert len(text.encode("utf-8")) <= MAX_TOPIC_BYTES
        # one line, nothing trimmed: an ACL line reads back as written
        assert text == text.strip(C_SPACE) and not any(char in text for char in "\n\r\x0b\x0c\x85\u2028\u2029")
    if topic_problem(text) is None:
        assert topic_filter_problem(text) is None and "+" not in text and "#" not in text
    if user_name_problem(text) is None:
        assert text_problem(text) is None and ":" not in text and " " not in text
