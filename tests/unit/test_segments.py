from monitor.sms.segments import count_segments


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
