from hypothesis import given
from hypothesis import strategies as st

from monitor.actions.reply_grammar import Intent, Reply, parse_reply


def test_every_contract_word_is_understood() -> None:
    assert parse_reply("ACK") == Reply(Intent.ACK)
    assert parse_reply("ok") == Reply(Intent.ACK)
    assert parse_reply("1") == Reply(Intent.ACK)
    assert parse_reply("ACK 17") == Reply(Intent.ACK, 17)
    assert parse_reply("DONE 17") == Reply(Intent.DONE, 17)
    assert parse_reply("NO") == Reply(Intent.DECLINE)
    assert parse_reply("pass 3") == Reply(Intent.DECLINE, 3)
    assert parse_reply("收到") == Reply(Intent.ACK)
    assert parse_reply("好") == Reply(Intent.ACK)
    assert parse_reply("完成 8") == Reply(Intent.DONE, 8)
    assert parse_reply("不行") == Reply(Intent.DECLINE)


def test_case_punctuation_and_full_width_forms_are_ignored() -> None:
    assert parse_reply("  Ack!! ") == Reply(Intent.ACK)
    assert parse_reply("“收到１２”。") == Reply(Intent.ACK, 12)
    assert parse_reply("收到12") == Reply(Intent.ACK, 12)
    assert parse_reply("done #5.") == Reply(Intent.DONE, 5)


def test_anything_else_is_not_a_reply() -> None:
    for body in ["", "hello", "ACKNOWLEDGE", "yes please", "ACK 1 2", "1 17", "NO WAY", "好 好"]:
        assert parse_reply(body) is None, body


@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_without_error(body: str) -> None:
    reply = parse_reply(body)
    assert reply is None or isinstance(reply.intent, Intent)
