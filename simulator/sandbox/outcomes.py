"""What happens to a message sent to a given number: the scripted carrier network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from simulator.sandbox.json_fields import optional_int, optional_str
from simulator.sandbox.twilio_errors import (
    DELIVERY_ERROR_MESSAGES,
    INVALID_TO_NUMBER,
    NOT_MOBILE_NUMBER,
    REJECTION_CODES,
)


class OutcomeKind(StrEnum):
    #: sent, then delivered; the phone gets it and follows its script
    DELIVERED = "delivered"
    #: created and sent, then the carrier reports ``undelivered`` with an error (30003, 30006, ...)
    UNDELIVERED = "undelivered"
    #: created, then ``failed`` with an error without ever being sent
    FAILED = "failed"
    #: refused at create time with HTTP 400 (21211 invalid number, 21614 landline); nothing stored
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    error_code: int | None = None

    def __post_init__(self) -> None:
        if self.kind is OutcomeKind.DELIVERED and self.error_code is not None:
            raise ValueError("a delivered message has no error code")
        if self.kind in (OutcomeKind.UNDELIVERED, OutcomeKind.FAILED) and self.error_code is None:
            raise ValueError(f"{self.kind} needs an error code, e.g. {sorted(DELIVERY_ERROR_MESSAGES)}")
        if self.kind is OutcomeKind.REJECTED and self.error_code not in REJECTION_CODES:
            raise ValueError(f"a rejection's error code is one of {sorted(REJECTION_CODES)}")

    @classmethod
    def delivered(cls) -> Outcome:
        return cls(OutcomeKind.DELIVERED)

    @classmethod
    def undelivered(cls, error_code: int = 30003) -> Outcome:
        return cls(OutcomeKind.UNDELIVERED, error_code)

    @classmethod
    def failed(cls, error_code: int = 30008) -> Outcome:
        return cls(OutcomeKind.FAILED, error_code)

    @classmethod
    def invalid_number(cls) -> Outcome:
        return cls(OutcomeKind.REJECTED, INVALID_TO_NUMBER)

    @classmethod
    def landline(cls) -> Outcome:
        return cls(OutcomeKind.REJECTED, NOT_MOBILE_NUMBER)

    def to_json(self) -> dict[str, object]:
        return {"outcome": self.kind.value, "error_code": self.error_code}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Outcome:
        """``{"outcome": "undelivered", "error_code": 30003}``; ValueError when malformed."""
        kind = optional_str(data, "outcome")
        code = optional_int(data, "error_code")
        if kind not in set(OutcomeKind):
            raise ValueError(f"'outcome' must be one of {[k.value for k in OutcomeKind]}")
        if code is None and kind == OutcomeKind.UNDELIVERED:
            return cls.undelivered()
        if code is None and kind == OutcomeKind.FAILED:
            return cls.failed()
        return cls(OutcomeKind(kind), code)


class OutcomeBook:
    """The outcome for each destination number, and one for every other number."""

    def __init__(self, default: Outcome | None = None) -> None:
        self.default = default or Outcome.delivered()
        self._by_number: dict[str, Outcome] = {}

    def set(self, number: str, outcome: Outcome) -> None:
        self._by_number[number] = outcome

    def clear(self, number: str | None = None) -> None:
        """Forget one number's outcome, or (no number) every number's and reset the default."""
        if number is None:
            self._by_number.clear()
            self.default = Outcome.delivered()
        else:
            self._by_number.pop(number, None)

    def for_number(self, number: str) -> Outcome:
        return self._by_number.get(number, self.default)

    def by_number(self) -> dict[str, Outcome]:
        return dict(self._by_number)
