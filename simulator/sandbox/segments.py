"""How many SMS segments a body takes, counted the way Twilio counts them.

A body that uses only the GSM 03.38 alphabet goes as GSM-7: 160 septets in a single SMS,
153 per segment once it is split (the rest is the concatenation header); characters of the
extension table take two septets and are never split across segments. Any other character
makes the whole body UCS-2: 70 UTF-16 code units single, 67 per segment, and a surrogate
pair (an emoji) is never split either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Sent as ESC + one septet.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE, _GSM7_SEGMENT = 160, 153
_UCS2_SINGLE, _UCS2_SEGMENT = 70, 67


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    segments: int


def encoding_of(body: str) -> Encoding:
    gsm7 = all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in body)
    return Encoding.GSM7 if gsm7 else Encoding.UCS2


def count_segments(body: str) -> SegmentCount:
    encoding = encoding_of(body)
    if encoding is Encoding.GSM7:
        units = [2 if char in _GSM7_EXTENSION else 1 for char in body]
        single, per_segment = _GSM7_SINGLE, _GSM7_SEGMENT
    else:
        units = [2 if ord(char) > 0xFFFF else 1 for char in body]
        single, per_segment = _UCS2_SINGLE, _UCS2_SEGMENT
    if sum(units) <= single:
        return SegmentCount(encoding, 1)
    return SegmentCount(encoding, _pack(units, per_segment))


def _pack(units: list[int], per_segment: int) -> int:
    """Segments needed when no character's units may straddle two segments."""
    segments, used = 1, 0
    for size in units:
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return segments
