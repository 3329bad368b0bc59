"""Segment counting (GSM-7 / UCS-2) as carriers bill and Twilio counts: one counter, used by the
monitor for every SMS row and by the SMS sandbox for what it reports back."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.notify.sms.segments import Encoding, count_segments


def test_gsm7_single_and_concatenated_limits() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3
    assert count_segments("a" * 160).encoding == "GSM-7"


def test_extension_characters_cost_two_septets() -> None:
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2


def test_chinese_text_is_ucs2_with_70_and_67_limits() -> None:
    assert count_segments("收" * 70).segments == 1
    assert count_segments("收" * 71).segments == 2
    assert count_segments("收" * 134).segments == 2
    assert count_segments("收" * 135).segments == 3
    assert count_segments("收").encoding == "UCS-2"


def test_one_non_gsm_character_turns_the_whole_text_ucs2() -> None:
    text = "a" * 100 + "好"
    assert count_segments(text).encoding == "UCS-2"
    assert count_segments(text).segments == 2


def test_a_part_never_splits_an_escaped_character_or_an_emoji() -> None:
    # 152 plain septets then "€" (2 septets) would straddle the first part's end at 153.
    assert count_segments("a" * 152 + "€" + "a" * 10).segments == 2
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    # 67 emoji are 134 UTF-16 units: 67 units per part cannot hold 33.5 of them.
    assert count_segments("😀" * 67).segments == 3


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("", Encoding.GSM7, 1),
        ("a" * 160, Encoding.GSM7, 1),
        ("a" * 161, Encoding.GSM7, 2),
        ("a" * 306, Encoding.GSM7, 2),
        ("a" * 307, Encoding.GSM7, 3),
        ("€" * 80, Encoding.GSM7, 1),  # 160 septets
        ("a" * 152 + "€" + "a" * 8, Encoding.GSM7, 2),  # 162 septets
        ("a" * 152 + "€" + "a" * 152, Encoding.GSM7, 3),  # the escape pair is not split: 152 | 2+152 | ...
        ("中" * 70, Encoding.UCS2, 1),
        ("中" * 71, Encoding.UCS2, 2),
        ("中" * 134, Encoding.UCS2, 2),
        ("中" * 135, Encoding.UCS2, 3),
        ("a" * 69 + "中", Encoding.UCS2, 1),  # one non-GSM character makes it all UCS-2
        ("a" * 70 + "中", Encoding.UCS2, 2),
        ("😀" * 35, Encoding.UCS2, 1),  # 70 UTF-16 units
        ("😀" * 36, Encoding.UCS2, 2),  # 33 fit a 67-unit segment without splitting a pair
        ("😀" * 67, Encoding.UCS2, 3),
    ],
)
def test_known_boundaries(body: str, encoding: Encoding, segments: int) -> None:
    counted = count_segments(body)
    assert (counted.encoding, counted.segments) == (encoding, segments)


@given(st.text(alphabet="abcXYZ0123 .,!?", max_size=1600))
def test_plain_gsm7_text_follows_160_then_153(body: str) -> None:
    expected = 1 if len(body) <= 160 else math.ceil(len(body) / 153)
    assert count_segments(body).segments == expected


@given(st.text(alphabet="收到完成不行好王秀英", min_size=1, max_size=700))
def test_chinese_text_follows_70_then_67(body: str) -> None:
    expected = 1 if len(body) <= 70 else math.ceil(len(body) / 67)
    counted = count_segments(body)
    assert (counted.encoding, counted.segments) == (Encoding.UCS2, expected)


@given(st.text(max_size=400), st.text(max_size=400))
def test_a_longer_body_never_takes_fewer_segments(body: str, more: str) -> None:
    longer, shorter = count_segments(body + more), count_segments(body)
    if longer.encoding == shorter.encoding:
        assert longer.segments >= shorter.segments
