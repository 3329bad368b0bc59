"""What people read about a quiet person or device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.notify.texts import (
    AlertFacts,
    HealthItem,
    MessageStyle,
    area_digest,
    ask,
    cancelled,
    health_report,
)

STYLE = MessageStyle(ZoneInfo("Asia/Shanghai"), "https://maps.example/?q={lat},{lon}")
RAISED = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def facts(kind: str, **extra: object) -> AlertFacts:
    return AlertFacts(7, kind, RAISED, "Margaret Chen", "8 Riverside Lane", "Tianxian 3", "+8613800000002", **extra)  # type: ignore[arg-type]


def test_missed_check_in_asks_for_a_call_or_a_visit() -> None:
    english = ask(facts("missed_checkin"), "en", STYLE).text
    assert "MISSED CHECK-IN: Margaret Chen, 8 Riverside Lane, Tianxian 3, no check-in as of 10:00." in english
    assert "Please call or knock on the door. Tel +8613800000002." in english
    assert "截至10:00未报平安" in ask(facts("missed_checkin"), "zh", STYLE).text
    assert "checked in after all" in cancelled(facts("missed_checkin"), "en").text


def test_geofence_shows_where_how_precise_and_how_old() -> None:
    fix = {"lat": 30.29412, "lon": 120.1551, "accuracy_m": 20.4, "position_at": RAISED - timedelta(minutes=3)}
    text = ask(facts("geofence", **fix), "en", STYLE).text
    assert "LEFT SAFE ZONE: Margaret Chen" in text and "left the safe zone at 10:00" in text
    assert "Location ±20m 09:57 (3 min old): https://maps.example/?q=30.29412,120.15510" in text
    assert "（3分钟前）" in ask(facts("geofence", **fix), "zh", STYLE).text


def test_staff_report_lists_a_few_and_counts_the_rest() -> None:
    items = [HealthItem("device_offline", f"btn-{n}", RAISED, f"Resident {n}") for n in range(7)]
    items.insert(0, HealthItem("area_outage", "Tianxian 3", RAISED, devices=48))
    text = health_report(items, "en", STYLE).text
    assert text.startswith("Device report, 8 new: AREA OUTAGE Tianxian 3 (48 devices) since 10:00; DEVICE OFFLINE")
    assert "; 3 more. Details on the duty console." in text
    assert "另有3条" in health_report(items, "zh", STYLE).text


def test_digest_says_what_is_over() -> None:
    items = [
        HealthItem("low_battery", "btn-7", RAISED, "Li Hua", battery=15),
        HealthItem("device_offline", "btn-2", RAISED, "王秀英", ended=True),
    ]
    text = area_digest("Tianxian 3", items, "en", STYLE).text
    assert (
        "LOW BATTERY btn-7 (Li Hua) 15% since 10:00, ongoing; DEVICE OFFLINE btn-2 (王秀英) since 10:00, back" in text
    )
    assert "设备电量低 btn-7（Li Hua）15%，10:00起，未恢复" in area_digest("Tianxian 3", items, "zh", STYLE).text
