"""Properties of the SMS reply grammar over generated replies, as real phones write them:
any case, padding and punctuation, full-width digits and letters, codes with or without '#'."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.actions.reply_grammar import STANDING_WORDS, WORDS, Intent, Reply, normalize, parse_reply

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


@given(st.sampled_from(sorted(WORDS)), st.text(min_size=1, max_size=20).filter(lambda extra: normalize(extra) != ""))
def test_a_reply_word_followed_by_other_words_is_not_a_reply(word: str, extra: str) -> None:
    body = f"{word} {extra}"
    reply = parse_reply(body)
    tail = normalize(extra).lstrip("#").strip()
    # Only a bare number after the word (its alert code) keeps it a reply.
    assert reply is None or (tail.isdigit() and reply.alert_code == int(tail))


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
    if normalize(body) not in WORDS and normalize(body) not in STANDING_WORDS:
        assert parse_reply(body) is None
