"""Numbers as a GSM modem reports its senders, in E.164 as the directory stores them."""

from __future__ import annotations

import pytest

from monitor.notify.sms.modem import e164


@pytest.mark.parametrize(
    ("reported", "country_code", "stored"),
    [
        ("+8613900000001", "+86", "+8613900000001"),  # international, as most networks deliver
        ("13900000001", "+86", "+8613900000001"),  # national mainland mobile
        ("008613900000001", "+86", "+8613900000001"),  # the international prefix instead of "+"
        ("07700 900123", "+44", "+447700900123"),  # a national number with its trunk 0
        ("+44 7700-900123", "+86", "+447700900123"),  # another country's, spaced
    ],
)
def test_a_reported_number_is_stored_in_e164(reported: str, country_code: str, stored: str) -> None:
    assert e164(reported, country_code) == stored
