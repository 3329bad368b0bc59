"""What a volunteer's SMS reply means (docs/configuration.md, "SMS replies").

Case-insensitive; surrounding punctuation and spaces are ignored; full-width characters
(as Chinese phones type them) count as their plain forms. ``ACK 17`` and ``收到17`` are the
same reply.

After taking an alert, its holder says they are on the way (``GO``, ``ON MY WAY``, ``OMW 10``
with the minutes until they expect to be there, ``出发``, ``在路上 10``), that they have arrived
(``HERE``, ``ARRIVED``, ``到了``, ``已到``), or hands it back (``NO``, ``PASS``, ``不行``, with the
alert's number and a reason if they like: ``NO 7 car broke down``, ``不行，车坏了``).

Besides answers about alerts, a volunteer sets their availability: ``OFF`` (休息) until
``ON`` (上班), ``PAUSE 2h`` / ``PAUSE 30m`` (暂停, or 休息 with a duration) for a while,
and asks ``STATUS`` (状态). The carriers' opt-out words (``STOP`` and its synonyms, and
China's ``TD`` / 退订) and opt-in words (``START``...) are recognised as whole messages
only, as carriers match them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Intent(StrEnum):
    ACK = "ack"  # I take it
    DONE = "done"  # it is resolved
    DECLINE = "decline"  # I cannot; ask the next tier now (after taking it: I hand it back)
    GO = "go"  # I am on my way (in so many minutes)
    HERE = "here"  # I have arrived
    OFF = "off"  # not available until I say ON
    ON = "on"  # available again (as my schedule says)
    PAUSE = "pause"  # not available for a while
    STATUS = "status"  # am I on call?
    STOP = "stop"  # opt out of every message (carriers' rule)
    START = "start"  # opt back in


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
    "here": Intent.HERE,
    "arrived": Intent.HERE,
    "到了": Intent.HERE,
    "已到": Intent.HERE,
    "已到达": Intent.HERE,
}
#: On my way; a number after these is minutes, not an alert's number ("OMW 10").
GO_WORDS: tuple[str, ...] = ("go", "going", "on my way", "omw", "出发", "出发了", "在路上")
#: At most this many minutes on the way is believed (more is a typo, or not on the way).
MAX_ETA_MINUTES = 600
#: A reason after the alert's number and a space ("NO 7 car broke down"), or after punctuation
#: ("NO: car broke down", "不行，车坏了"); "NO WAY" and "no problem" are not replies.
REASON_AFTER_CODE = re.compile(r"^(?:\s*[,:;，：。、-]\s*|\s+)(?P<reason>\S.*)$")
REASON_AFTER_WORD = re.compile(r"^\s*[,:;，：。、-]\s*(?P<reason>\S.*)$")

#: Whole-message words about the volunteer rather than an alert.
STANDING_WORDS: dict[str, Intent] = {
    "off": Intent.OFF,
    "休息": Intent.OFF,
    "on": Intent.ON,
    "上班": Intent.ON,
    "pause": Intent.PAUSE,
    "暂停": Intent.PAUSE,
    "status": Intent.STATUS,
    "状态": Intent.STATUS,
    # Twilio's standard opt-out and opt-in keywords, and the Chinese carriers' 退订 (TD)
    "stop": Intent.STOP,
    "stopall": Intent.STOP,
    "unsubscribe": Intent.STOP,
    "cancel": Intent.STOP,
    "end": Intent.STOP,
    "quit": Intent.STOP,
    "td": Intent.STOP,
    "退订": Intent.STOP,
    "start": Intent.START,
    "yes": Intent.START,
    "unstop": Intent.START,
}
#: Words that take a duration: "PAUSE 2h", "OFF 2h" and "休息2小时" all pause.
PAUSE_WORDS: tuple[str, ...] = ("pause", "暂停", "off", "休息")
#: A bare PAUSE pauses this long (the confirmation says until when).
DEFAULT_PAUSE = timedelta(hours=1)
MAX_PAUSE = timedelta(days=14)
MINUTE_UNITS: tuple[str, ...] = ("m", "min", "mins", "minute", "minutes", "分", "分钟")
UNITS: dict[str, timedelta] = {
    **dict.fromkeys(MINUTE_UNITS, timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "小时", "个小时", "钟头"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days", "天"), timedelta(days=1)),
}


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_REPLY = re.compile(rf"^(?P<word>{_alternatives(WORDS)})(?:\s*#?\s*(?P<code>\d{{1,9}}))?$")
_DECLINE_BECAUSE = re.compile(
    rf"^(?P<word>{_alternatives(word for word, intent in WORDS.items() if intent is Intent.DECLINE)})"
    rf"(?:\s*#?\s*(?P<code>\d{{1,9}})(?!\d))?(?P<rest>.*)$"
)
_GO = re.compile(
    rf"^(?P<word>{_alternatives(GO_WORDS)})(?:\s*(?P<minutes>\d{{1,4}})\s*(?:{_alternatives(MINUTE_UNITS)})?)?$"
)
_PAUSE = re.compile(
    rf"^(?P<word>{_alternatives(PAUSE_WORDS)})\s*(?:for\s*)?(?P<amount>\d{{1,4}})\s*(?P<unit>{_alternatives(UNITS)})$"
)


@dataclass(frozen=True, slots=True)
class Reply:
    intent: Intent
    #: the alert number the reply names, when it names one
    alert_code: int | None = None
    #: for PAUSE: for how long
    pause: timedelta | None = None
    #: for GO: in how many minutes they expect to be there, when they said
    minutes: int | None = None
    #: for DECLINE: why, in the sender's words (casefolded), when they said
    reason: str = ""


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
    text = normalize(body)
    standing = STANDING_WORDS.get(text)
    if standing is not None:
        return Reply(standing, pause=DEFAULT_PAUSE if standing is Intent.PAUSE else None)
    paused = _PAUSE.match(text)
    if paused is not None:
        length = int(paused["amount"]) * UNITS[paused["unit"]]
        return Reply(Intent.PAUSE, pause=length) if timedelta(0) < length <= MAX_PAUSE else None
    going = _GO.match(text)
    if going is not None:
        minutes = int(going["minutes"]) if going["minutes"] else None
        if minutes is not None and not 0 < minutes <= MAX_ETA_MINUTES:
            return None
        return Reply(Intent.GO, minutes=minutes)
    match = _REPLY.match(text)
    if match is None:
        return _decline_because(text)
    intent = WORDS[match["word"]]
    code = int(match["code"]) if match["code"] else None
    if intent is Intent.ACK and match["word"] == "1" and code is not None:
        return None  # "1 17" is ambiguous; "ACK 17" is not
    return Reply(intent, code)


def _decline_because(text: str) -> Reply | None:
    """A declining word, perhaps the alert's number, and a reason (``REASON_AFTER_CODE``, ``REASON_AFTER_WORD``)."""
    match = _DECLINE_BECAUSE.match(text)
    if match is None:
        return None
    because = (REASON_AFTER_CODE if match["code"] else REASON_AFTER_WORD).match(match["rest"])
    if because is None:
        return None
    return Reply(Intent.DECLINE, int(match["code"]) if match["code"] else None, reason=because["reason"][:200])
