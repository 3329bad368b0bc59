"""How many SMS segments a text costs (GSM 03.38 / UCS-2), counted the way carriers bill and Twilio
counts them: the monitor records it on every SMS row, and the SMS sandbox reports it back.

A text that uses only the GSM 03.38 alphabet goes as GSM-7: 160 septets in a single SMS,
153 per segment once it is split (the rest is the concatenation header); characters of the
extension table take two septets (an escape and themselves). Any other character makes the
whole text UCS-2: 70 UTF-16 code units single, 67 per segment. A segment never cuts a
character in two: a part that an escaped character or an emoji would straddle closes early.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Characters of the extension table: each costs an escape plus itself (two septets).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    """Segments for ``text``: GSM-7 160 single / 153 per part, UCS-2 70 / 67."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        costs = [2 if char in GSM7_EXTENDED else 1 for char in text]
        return SegmentCount(Encoding.GSM7, sum(costs), _parts(costs, single=160, multi=153))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentCount(Encoding.UCS2, sum(costs), _parts(costs, single=70, multi=67))


def _parts(costs: list[int], *, single: int, multi: int) -> int:
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts
