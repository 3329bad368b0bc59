"""How many SMS segments a text costs (GSM 03.38 / UCS-2), as carriers bill them.

A long message is split into parts of 153 septets (GSM-7) or 67 UTF-16 code units
(UCS-2); like Twilio, a character is never cut in two, so a part ending where an
escaped GSM character or an emoji would straddle it closes early.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Characters of the extension table: each costs an escape plus itself (two septets).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    """Segments for ``text``: GSM-7 160 single / 153 per part, UCS-2 70 / 67."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        costs = [2 if char in GSM7_EXTENDED else 1 for char in text]
        return SegmentCount("GSM-7", sum(costs), _parts(costs, single=160, multi=153))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentCount("UCS-2", sum(costs), _parts(costs, single=70, multi=67))


def _parts(costs: list[int], *, single: int, multi: int) -> int:
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts
