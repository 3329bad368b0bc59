"""Twilio's REST error responses: ``{"code", "message", "more_info", "status"}``.

The twilio client turns these into ``TwilioRestException`` with ``.status`` (HTTP) and
``.code`` (Twilio's error code), so the codes and statuses here are Twilio's own.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Errors a status callback may report for a message that was created but not delivered.
DELIVERY_ERROR_MESSAGES: dict[int, str] = {
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}

INVALID_TO_NUMBER = 21211
NOT_MOBILE_NUMBER = 21614
#: Errors the API answers at create time for a destination, before anything is sent.
REJECTION_CODES = frozenset({INVALID_TO_NUMBER, NOT_MOBILE_NUMBER})

_GENERIC_HTTP_MESSAGES = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class TwilioError:
    status: int
    code: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class TwilioApiError(Exception):
    """Raised inside the sandbox to answer a request with a Twilio error."""

    def __init__(self, error: TwilioError) -> None:
        super().__init__(f"{error.status} {error.code}: {error.message}")
        self.error = error


def authentication_failed() -> TwilioError:
    return TwilioError(401, 20003, "Authenticate")


def resource_not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def method_not_allowed(method: str) -> TwilioError:
    return TwilioError(405, 20004, f"Method not allowed: {method}")


def missing_parameter(name: str) -> TwilioError:
    codes = {"To": 21604, "From": 21603, "Body": 21602}
    messages = {
        "To": "A 'To' phone number is required.",
        "From": "A 'From' phone number is required.",
        "Body": "Message body is required.",
    }
    return TwilioError(400, codes[name], messages[name])


def body_too_long() -> TwilioError:
    return TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")


def rejected_destination(code: int, to: str) -> TwilioError:
    """21211 (not a valid phone number) or 21614 (not a mobile number, e.g. a landline)."""
    if code == INVALID_TO_NUMBER:
        return TwilioError(400, code, f"Invalid 'To' Phone Number: {to}")
    if code == NOT_MOBILE_NUMBER:
        return TwilioError(400, code, f"'To' number {to} is not a valid mobile number")
    raise ValueError(f"{code} is not a create-time rejection; expected one of {sorted(REJECTION_CODES)}")


def http_failure(status: int, code: int | None = None) -> TwilioError:
    """A 429 or 5xx; Twilio's codes for these are 20000 + the HTTP status (20429, 20500, ...)."""
    message = _GENERIC_HTTP_MESSAGES.get(status, "Service error")
    return TwilioError(status, code if code is not None else 20000 + status, message)
