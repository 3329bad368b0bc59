"""Small pure parts of the console: translations, report arithmetic, periods, passwords, headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.reports.measures import Durations, Share, nearest_rank
from monitor.reports.period import PeriodError, make_period
from monitor.users.passwords import Passwords, password_problem
from monitor.web.i18n import translator
from monitor.web.i18n_tables import ZH
from monitor.web.security import content_security_policy

TEMPLATES = Path(__file__).resolve().parents[2] / "monitor" / "web" / "templates"
LITERAL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def test_every_text_in_the_templates_has_a_chinese_translation() -> None:
    texts = {
        (match.group(1) or match.group(2)).replace("\\'", "'")
        for template in TEMPLATES.glob("*.html")
        for match in LITERAL.finditer(template.read_text(encoding="utf-8"))
    }
    names = {text for text in texts if text.endswith(":")}  # prefixes such as "kind:" joined at render time
    missing = sorted(texts - names - set(ZH))
    assert missing == [], f"add these to monitor/web/i18n_tables.py ZH: {missing}"


def test_names_of_things_read_well_in_both_languages() -> None:
    english, chinese = translator("en"), translator("zh")
    assert english("kind:sos") == "SOS" and chinese("kind:sos") == "紧急求助"
    assert english("event:some_new_event") == "some new event"
    assert chinese("{n} open", n=3) == "3 条待处理"


def test_percentiles_are_nearest_rank() -> None:
    waits = [float(second) for second in range(1, 101)]
    assert nearest_rank(waits, 0.90) == 90 and nearest_rank(waits, 0.99) == 99
    assert Durations.of(waits).median_s == 50.5
    assert Durations.of([]) == Durations(0, None, None, None)


def test_shares_against_the_telecare_targets() -> None:
    assert Share(within=39, of=40, target=0.975).meets_target is True
    assert Share(within=38, of=40, target=0.975).meets_target is False
    assert Share(within=0, of=0, target=0.99).value is None


def test_a_period_of_local_days_includes_the_last_day() -> None:
    period = make_period("2026-03-01", "2026-03-02", ZoneInfo("Asia/Shanghai"))
    assert period.start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert len(period.local_days()) == 2
    with pytest.raises(PeriodError):
        make_period("2026-03-02", "2026-03-01T00:00", ZoneInfo("UTC"))


def test_passwords_are_argon2_and_checked() -> None:
    passwords = Passwords()
    stored = passwords.hash("a long enough password")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "a long enough password").ok
    assert not passwords.verify(stored, "wrong password!").ok
    assert not passwords.verify(None, "anything at all").ok
    assert password_problem("short") == "must be at least 10 characters long"


def test_map_tiles_are_the_only_outside_source_the_pages_may_load() -> None:
    policy = content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org" in policy
    assert "img-src 'self' data:;" in content_security_policy("")
