"""Properties of the SMS reply grammar over generated replies, as real phones write them:
any case, padding and punctuation, full-width digits and letters, codes with or without '#'."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.actions.reply_grammar import GO_WORDS, STANDING_WORDS, WORDS, Intent, Reply, normalize, parse_reply

#: What phones put around a reply: spaces (also full-width and non-breaking), punctuation, quotes.
PADDING = st.text(alphabet=" \t\n\u3000\u00a0.!?,;:。，！？、“”\"'()（）[]【】~-", max_size=4)
CODES = st.integers(min_value=1, max_value=999_999_999)


def full_width(text: str) -> str:
    """What a Chinese keyboard types for ASCII letters and digits."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def any_case(draw: st.DrawFn, text: str) -> str:
    return "".join(char.upper() if draw(st.booleans()) else char for char in text)


@st.composite
def written_replies(draw: st.DrawFn) -> tuple[str, Reply]:
    word = draw(st.sampled_from(sorted(WORDS)))
    code = draw(st.none() | CODES)
    if word == "1" and code is not None:
        code = None  # "1 17" is ambiguous by design: tested below
    separator = draw(st.sampled_from(["", " ", "  ", " #", "#", " # "])) if code is not None else ""
    text = any_case(draw, word) + (separator + str(code) if code is not None else "")
    if draw(st.booleans()):
        text = full_width(text)
    return draw(PADDING) + text + draw(PADDING), Reply(WORDS[word], code)


@given(written_replies())
def test_every_way_a_phone_writes_a_reply_is_understood(written: tuple[str, Reply]) -> None:
    body, meant = written
    assert parse_reply(body) == meant


DECLINING = sorted(word for word, intent in WORDS.items() if intent is Intent.DECLINE)


@given(
    st.sampled_from(sorted(word for word in WORDS if word not in DECLINING)),
    st.text(min_size=1, max_size=20).filter(lambda extra: normalize(extra) != ""),
)
def test_a_reply_word_followed_by_other_words_is_not_a_reply(word: str, extra: str) -> None:
    body = f"{word} {extra}"
    reply = parse_reply(body)
    tail = normalize(extra).lstrip("#").strip()
    # Only a bare number after the word (its alert code) keeps it a reply.
    assert reply is None or (tail.isdigit() and reply.alert_code == int(tail))


@given(
    st.sampled_from(DECLINING),
    st.none() | CODES,
    st.sampled_from([":", ",", "，", "：", " - "]),
    st.text(alphabet=st.characters(whitelist_categories=("L", "Nd")), min_size=1, max_size=30),
)
def test_a_decline_keeps_its_reason_after_punctuation_or_the_alert_number(
    word: str, code: int | None, mark: str, reason: str
) -> None:
    number = f" {code}" if code is not None else ""
    reply = parse_reply(f"{word.upper()}{number}{mark}{reason}")
    assert reply == Reply(Intent.DECLINE, code, reason=normalize(reason))


@given(st.sampled_from(DECLINING), st.text(alphabet=st.characters(whitelist_categories=("L",)), min_size=1, max_size=9))
def test_a_decline_followed_by_words_without_punctuation_or_number_is_not_a_reply(word: str, rest: str) -> None:
    """ "NO WAY", "no problem": said in passing, not handing anything back."""
    assert parse_reply(f"{word} {rest}") is None


@given(
    st.sampled_from(GO_WORDS),
    st.none() | st.integers(min_value=1, max_value=600),
    st.sampled_from(["", " ", " min", "分钟"]),
)
def test_on_my_way_takes_minutes_not_an_alert_number(word: str, minutes: int | None, unit: str) -> None:
    said = f"{word}{' ' + str(minutes) + unit if minutes is not None else ''}"
    assert parse_reply(full_width(said.upper())) == Reply(Intent.GO, minutes=minutes)


@given(st.sampled_from(sorted(word for word in WORDS if not word.isdigit())), st.integers(min_value=10**9))
def test_codes_longer_than_nine_digits_are_refused(word: str, code: int) -> None:
    assert parse_reply(f"{word} {code}") is None


@given(st.text(max_size=300))
def test_normalizing_twice_changes_nothing_and_parsing_never_fails(body: str) -> None:
    once = normalize(body)
    assert normalize(once) == once
    reply = parse_reply(body)
    assert reply is None or (isinstance(reply.intent, Intent) and (reply.alert_code is None or reply.alert_code >= 0))


@given(st.text(alphabet=st.characters(whitelist_categories=("Lo",)), min_size=1, max_size=10))
def test_other_chinese_text_is_not_a_reply(body: str) -> None:
    """Letters of any script other than the grammar's own words (收到, 好, 完成, 休息, ...) mean nothing."""
    if normalize(body) not in (*WORDS, *STANDING_WORDS, *GO_WORDS):
        assert parse_reply(body) is None
