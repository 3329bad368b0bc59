"""What every family promises the monitor beyond parsing: feedback, heartbeat pace, and the
shared helpers that keep parsing total."""

from __future__ import annotations

import pytest

from devices import registry
from devices.base import DeviceProfile, Rejection, RejectReason, as_float, as_int, as_percent, decode_text

THIRD_PARTY = sorted(set(registry()) - {"native"})


@pytest.mark.parametrize("protocol", THIRD_PARTY)
def test_third_party_devices_cannot_be_told_about_their_alert(protocol: str) -> None:
    adapter = registry()[protocol]
    device = DeviceProfile("d-1", "button", adapter.default_topic("d-1"))
    assert adapter.feedback_topic(device) is None


def test_native_devices_hear_back_on_their_feedback_topic() -> None:
    device = DeviceProfile("btn-1", "button", "callwatch/btn-1")
    assert registry()["native"].feedback_topic(device) == "callwatch/btn-1/feedback"


@pytest.mark.parametrize("protocol", sorted(registry()))
def test_every_family_states_its_heartbeat_pace(protocol: str) -> None:
    pace = registry()[protocol].default_heartbeat_s
    assert isinstance(pace, int) and 0 <= pace <= 86400


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(10**400, None), (-(10**400), None), ("1e400", None), ("NaN", None), (float("inf"), None), (True, None)],
)
def test_as_float_is_total(raw: object, expected: float | None) -> None:
    assert as_float(raw) == expected  # type: ignore[arg-type]


def test_as_int_rounds_within_bounds_only() -> None:
    assert as_int(" -64.6 ", -150, 0) == -65
    assert as_int(1, -150, 0) is None
    assert as_int(10**400, 0, 255) is None
    assert as_percent(-1) is None and as_percent(99.6) == 100


def test_decode_text_strips_and_refuses_what_is_not_text() -> None:
    assert decode_text(b" Online\n") == "Online"
    refused = decode_text(b"\xff\xfe")
    assert isinstance(refused, Rejection) and refused.reason is RejectReason.NOT_UTF8
    oversized = decode_text(b"x" * 70_000)
    assert isinstance(oversized, Rejection) and oversized.reason is RejectReason.OVERSIZED
