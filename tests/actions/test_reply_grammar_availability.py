"""The reply grammar's words about the sender: OFF / ON / PAUSE <time> / STATUS (休息, 上班,
暂停, 状态), and the carriers' STOP / START words, as phones write them."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.actions.reply_grammar import (
    DEFAULT_PAUSE,
    MAX_PAUSE,
    STANDING_WORDS,
    UNITS,
    WORDS,
    Intent,
    Reply,
    normalize,
    parse_reply,
)
from tests.actions.test_reply_grammar_properties import PADDING, any_case, full_width

PAUSING_WORDS = ["pause", "暂停", "off", "休息"]


def test_the_issue_s_words_are_understood() -> None:
    assert parse_reply("OFF") == Reply(Intent.OFF)
    assert parse_reply("ON") == Reply(Intent.ON)
    assert parse_reply("PAUSE 2h") == Reply(Intent.PAUSE, pause=timedelta(hours=2))
    assert parse_reply("PAUSE 30m") == Reply(Intent.PAUSE, pause=timedelta(minutes=30))
    assert parse_reply("STATUS") == Reply(Intent.STATUS)
    assert parse_reply("休息") == Reply(Intent.OFF)
    assert parse_reply("上班") == Reply(Intent.ON)
    assert parse_reply("状态") == Reply(Intent.STATUS)
    assert parse_reply("休息2小时") == Reply(Intent.PAUSE, pause=timedelta(hours=2))
    assert parse_reply("暂停 30分钟") == Reply(Intent.PAUSE, pause=timedelta(minutes=30))
    assert parse_reply("pause") == Reply(Intent.PAUSE, pause=DEFAULT_PAUSE)
    assert parse_reply("STOP") == Reply(Intent.STOP)
    assert parse_reply("退订") == Reply(Intent.STOP)
    assert parse_reply("TD") == Reply(Intent.STOP)
    assert parse_reply("START") == Reply(Intent.START)


def test_alert_replies_are_unchanged_and_standing_words_take_no_alert_code() -> None:
    assert parse_reply("ACK 17") == Reply(Intent.ACK, 17)
    assert parse_reply("OFF 17") is None  # a number without a unit is not a pause
    assert parse_reply("STOP 17") is None  # carriers match opt-out words as the whole message
    assert parse_reply("STATUS 3") is None
    assert not set(WORDS) & set(STANDING_WORDS)


@st.composite
def written_pauses(draw: st.DrawFn) -> tuple[str, timedelta]:
    word = draw(st.sampled_from(PAUSING_WORDS))
    unit = draw(st.sampled_from(sorted(UNITS)))
    amount = draw(st.integers(min_value=1, max_value=9999))
    spacing = draw(st.sampled_from(["", " ", "  "]))
    text = any_case(draw, f"{word}{spacing}{amount}{draw(st.sampled_from(['', ' ']))}{unit}")
    if draw(st.booleans()):
        text = full_width(text)
    return draw(PADDING) + text + draw(PADDING), amount * UNITS[unit]


@given(written_pauses())
def test_every_way_of_writing_a_pause_is_understood_within_its_limits(written: tuple[str, timedelta]) -> None:
    body, length = written
    reply = parse_reply(body)
    if timedelta(0) < length <= MAX_PAUSE:
        assert reply == Reply(Intent.PAUSE, pause=length)
    else:
        assert reply is None  # too long to be meant: the help text explains instead


@given(st.sampled_from(sorted(STANDING_WORDS)), PADDING, PADDING, st.booleans())
def test_standing_words_are_read_in_any_case_and_padding(word: str, before: str, after: str, wide: bool) -> None:
    text = word.upper() if word.isascii() else word
    body = before + (full_width(text) if wide else text) + after
    reply = parse_reply(body)
    assert reply is not None and reply.intent is STANDING_WORDS[word] and reply.alert_code is None
    assert (reply.pause is not None) is (reply.intent is Intent.PAUSE)


@given(st.sampled_from(sorted(STANDING_WORDS)), st.text(min_size=1, max_size=12))
def test_a_standing_word_with_more_text_is_at_most_a_pause(word: str, extra: str) -> None:
    reply = parse_reply(f"{word} {extra}")
    if normalize(extra) == "":
        assert reply is not None and reply.intent is STANDING_WORDS[word]
    else:
        assert reply is None or reply.intent in (Intent.PAUSE, *WORDS.values())


@given(st.text(max_size=200))
def test_any_text_is_a_reply_or_refused_and_a_pause_is_always_bounded(body: str) -> None:
    reply = parse_reply(body)
    if reply is not None and reply.intent is Intent.PAUSE:
        assert reply.pause is not None and timedelta(0) < reply.pause <= MAX_PAUSE
    elif reply is not None:
        assert reply.pause is None
