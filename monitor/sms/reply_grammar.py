"""What a volunteer's SMS reply means (DESIGN.md, "SMS reply grammar").

Case-insensitive; surrounding punctuation and spaces are ignored; full-width characters
(as Chinese phones type them) count as their plain forms. ``ACK 17`` and ``收到17`` are the
same reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    ACK = "ack"  # I take it
    DONE = "done"  # it is resolved
    DECLINE = "decline"  # I cannot; ask the next tier now


WORDS: dict[str, Intent] = {
    "ack": Intent.ACK,
    "ok": Intent.ACK,
    "okay": Intent.ACK,
    "1": Intent.ACK,
    "收到": Intent.ACK,
    "好": Intent.ACK,
    "好的": Intent.ACK,
    "done": Intent.DONE,
    "完成": Intent.DONE,
    "no": Intent.DECLINE,
    "pass": Intent.DECLINE,
    "不行": Intent.DECLINE,
}

_REPLY = re.compile(
    r"^(?P<word>" + "|".join(sorted(map(re.escape, WORDS), key=len, reverse=True)) + r")"
    r"(?:\s*#?\s*(?P<code>\d{1,9}))?$"
)


@dataclass(frozen=True, slots=True)
class Reply:
    intent: Intent
    #: the alert number the reply names, when it names one
    alert_code: int | None = None


def normalize(body: str) -> str:
    """Full-width to plain, lower case, without surrounding punctuation or spaces."""
    text = unicodedata.normalize("NFKC", body).casefold()
    start, end = 0, len(text)
    while start < end and _is_padding(text[start]):
        start += 1
    while end > start and _is_padding(text[end - 1]):
        end -= 1
    return re.sub(r"\s+", " ", text[start:end])


def _is_padding(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in ("P", "S", "C")


def parse_reply(body: str) -> Reply | None:
    """The reply's meaning, or None when it is not one the grammar knows."""
    match = _REPLY.match(normalize(body))
    if match is None:
        return None
    intent = WORDS[match["word"]]
    code = int(match["code"]) if match["code"] else None
    if intent is Intent.ACK and match["word"] == "1" and code is not None:
        return None  # "1 17" is ambiguous; "ACK 17" is not
    return Reply(intent, code)
