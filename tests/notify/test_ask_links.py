"""An ask with a link to the responder page instead of the long map link: a Chinese ask with a
position fits in two UCS-2 segments (three without the page), and without links (a provider
that refuses them) the ask still carries the map link, the address and how to reply."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.notify.sms.segments import count_segments
from monitor.notify.texts import AlertFacts, MessageStyle, ask

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAISED = datetime(2026, 5, 6, 19, 0, tzinfo=SHANGHAI)
FACTS = AlertFacts(
    code=1234,
    kind="sos",
    raised_at=RAISED,
    resident_name="王秀英",
    address="12栋3单元201",
    area_name="天仙社区3",
    resident_phone="+8613800000001",
    lat=30.27411,
    lon=120.15515,
    accuracy_m=12,
    position_at=RAISED - timedelta(minutes=3),
)
MAPS = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
PAGE = "https://cw.example.org/r/AbCdEfGhIjKlMnOp"


def test_a_chinese_ask_with_a_position_and_the_page_link_fits_in_two_segments() -> None:
    with_page = ask(FACTS, "zh", MessageStyle(SHANGHAI, MAPS, link_base="https://cw.example.org/r/"), link=PAGE)
    with_map = ask(FACTS, "zh", MessageStyle(SHANGHAI, MAPS), distance_m=None)
    assert count_segments(with_page.text).segments == 2
    assert count_segments(with_map.text).segments == 3
    assert PAGE in with_page.text and "openstreetmap" not in with_page.text
    assert with_page.params["link"] == PAGE


def test_without_links_the_ask_says_everything_essential_with_the_map_link() -> None:
    message = ask(FACTS, "zh", MessageStyle(SHANGHAI, MAPS))
    for essential in ("王秀英", "12栋3单元201", "19:00", "+8613800000001", "收到 1234", "openstreetmap.org"):
        assert essential in message.text
    assert "/r/" not in message.text


def test_each_volunteer_reads_their_own_language() -> None:
    english = ask(FACTS, "en", MessageStyle(SHANGHAI, MAPS), distance_m=350)
    assert english.text.startswith("SOS: 王秀英, 12栋3单元201")
    assert "Reply ACK 1234 to take it" in english.text
