from hypothesis import given
from hypothesis import strategies as st

from monitor.notify.sms.segments import count_segments
from simulator.sandbox import count_segments as sandbox_count


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


@given(st.text(alphabet=st.sampled_from(list("abc€{好😀 ")), max_size=400))
def test_the_count_matches_the_sandbox_which_counts_like_twilio(text: str) -> None:
    assert count_segments(text).segments == sandbox_count(text).segments
