"""A call's progress in the words every notification uses: what counts as reached, and what not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config.settings import SandboxSettings, VoiceSettings
from monitor.notify.requests import UNREACHED
from monitor.notify.voice.call_status import call_progress
from monitor.notify.voice.twilio_voice import TwilioVoice

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("call_status", "answered_by", "recorded"),
    [
        ("initiated", None, ("queued", None)),
        ("ringing", None, ("sending", None)),
        ("in-progress", "human", ("sent", None)),
        ("completed", "human", ("delivered", None)),
        ("completed", None, ("delivered", None)),  # no machine detection: a person, we must assume
        ("in-progress", "machine_start", ("undelivered", "machine")),
        ("completed", "machine_end_beep", ("undelivered", "machine")),
        ("completed", "fax", ("undelivered", "machine")),
        ("busy", None, ("undelivered", "busy")),
        ("no-answer", None, ("undelivered", "no-answer")),
        ("canceled", None, ("undelivered", "canceled")),
        ("failed", None, ("failed", None)),
        ("Completed", "Human", ("delivered", None)),
    ],
)
def test_each_outcome_of_a_call(call_status: str, answered_by: str | None, recorded: tuple[str, str | None]) -> None:
    assert call_progress(call_status, answered_by) == recorded


def test_not_answered_busy_voicemail_and_failure_mean_not_reached() -> None:
    not_reached = [
        ("busy", None),
        ("no-answer", None),
        ("canceled", None),
        ("failed", None),
        ("completed", "machine_start"),
    ]
    assert all((progress := call_progress(*case)) is not None and progress[0] in UNREACHED for case in not_reached)


def test_a_status_callback_becomes_a_delivery_report() -> None:
    voice = TwilioVoice(
        SandboxSettings().as_twilio(),
        VoiceSettings(enabled=True),
        caller_id="+15005550006",
        public_url="https://cw.example",
    )
    report = voice.delivery_report({"CallSid": "CA1", "CallStatus": "no-answer"}, AT)
    assert report is not None and (report.provider_id, report.status, report.error_code) == (
        "CA1",
        "undelivered",
        "no-answer",
    )
    assert voice.delivery_report({"CallSid": "CA1", "CallStatus": "dialing"}, AT) is None
    assert voice.delivery_report({"CallStatus": "busy"}, AT) is None
