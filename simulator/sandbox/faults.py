"""Scripted trouble for the next create requests: HTTP errors, slow answers, no answer at all.

Faults apply to ``POST .../Messages.json`` and ``POST .../Calls.json`` (either, or one of them:
``resource``) and to Alibaba Cloud's ``SendSms`` (a message create; ``provider`` picks one API:
"twilio" or "aliyun", so one provider fails while the other works); fetch, list and
QuerySendDetails stay reliable, so tests can observe. They are used in the order
they were added; each serves ``count`` requests, or every request until cleared when ``count``
is None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from simulator.sandbox.json_fields import optional_int, optional_str, seconds
from simulator.sandbox.twilio_errors import TwilioError, http_failure

MESSAGES, CALLS = "Messages", "Calls"
RESOURCES: tuple[str, ...] = (MESSAGES, CALLS)
#: the APIs the sandbox answers (``OutboundMessage.provider``)
PROVIDERS: tuple[str, ...] = ("twilio", "aliyun")


class FaultKind(StrEnum):
    #: answer with an HTTP error in Twilio's shape (429 / 20429, 500 / 20500, ...); nothing is created
    ERROR = "error"
    #: wait ``delay`` seconds, then handle the request normally (the message is created even if
    #: the client gave up meanwhile, like a real timeout with an unknown outcome)
    SLOW = "slow"
    #: never answer; nothing is created; the request is released when the sandbox stops
    HANG = "hang"


@dataclass(slots=True)
class ApiFault:
    kind: FaultKind
    #: requests still to serve; None = every request until cleared
    remaining: int | None = 1
    status: int = 0
    error_code: int | None = None
    delay: float = 0.0
    #: only requests to this number; None = any
    to: str | None = None
    #: only creates of this resource ("Messages" or "Calls"); None = either
    resource: str | None = None
    #: only requests to this provider's API ("twilio" or "aliyun"); None = either
    provider: str | None = None

    def __post_init__(self) -> None:
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("a fault serves at least one request")
        if self.kind is FaultKind.ERROR and not 400 <= self.status <= 599:
            raise ValueError("an error fault needs an HTTP status from 400 to 599")
        if self.kind is FaultKind.SLOW and self.delay < 0:
            raise ValueError("a delay cannot be negative")
        if self.resource not in (None, *RESOURCES):
            raise ValueError(f"'resource' is one of {', '.join(RESOURCES)}")
        if self.provider not in (None, *PROVIDERS):
            raise ValueError(f"'provider' is one of {', '.join(PROVIDERS)}")

    @property
    def error(self) -> TwilioError:
        return http_failure(self.status, self.error_code)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "count": self.remaining,
            "status": self.status or None,
            "error_code": self.error.code if self.kind is FaultKind.ERROR else None,
            "delay": self.delay,
            "to": self.to,
            "resource": self.resource,
            "provider": self.provider,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ApiFault:
        """``{"kind": "error", "status": 429, "count": 2}``, ``{"kind": "slow", "delay": 3}``, ...

        ValueError when malformed.
        """
        kind = optional_str(data, "kind", FaultKind.ERROR.value)
        if kind not in set(FaultKind):
            raise ValueError(f"'kind' must be one of {[k.value for k in FaultKind]}")
        status = optional_int(data, "status", 429 if kind == FaultKind.ERROR else 0)
        return cls(
            FaultKind(kind),
            remaining=optional_int(data, "count", 1),
            status=status or 0,
            error_code=optional_int(data, "error_code"),
            delay=seconds(data, "delay"),
            to=optional_str(data, "to"),
            resource=optional_str(data, "resource"),
            provider=optional_str(data, "provider"),
        )


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[ApiFault] = []

    def add(self, fault: ApiFault) -> ApiFault:
        self._faults.append(fault)
        return fault

    def fail_next(
        self,
        count: int | None = 1,
        *,
        status: int = 429,
        error_code: int | None = None,
        to: str | None = None,
        resource: str | None = None,
        provider: str | None = None,
    ) -> ApiFault:
        """Answer the next ``count`` creates with ``status`` (429 -> 20429, 500 -> 20500, ...)."""
        return self.add(
            ApiFault(
                FaultKind.ERROR,
                count,
                status=status,
                error_code=error_code,
                to=to,
                resource=resource,
                provider=provider,
            )
        )

    def slow_next(
        self,
        count: int | None = 1,
        *,
        delay: float,
        to: str | None = None,
        resource: str | None = None,
        provider: str | None = None,
    ) -> ApiFault:
        return self.add(ApiFault(FaultKind.SLOW, count, delay=delay, to=to, resource=resource, provider=provider))

    def hang_next(
        self, count: int | None = 1, *, to: str | None = None, resource: str | None = None, provider: str | None = None
    ) -> ApiFault:
        return self.add(ApiFault(FaultKind.HANG, count, to=to, resource=resource, provider=provider))

    def take(self, to: str | None, resource: str = MESSAGES, provider: str = "twilio") -> ApiFault | None:
        """The fault for a create request of ``resource`` to ``to`` on ``provider``'s API, used up by
        one; None = no trouble."""
        for fault in self._faults:
            if (
                (fault.to is None or fault.to == to)
                and fault.resource in (None, resource)
                and fault.provider in (None, provider)
            ):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[ApiFault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()


async def hold(stopping: asyncio.Event, seconds: float | None) -> bool:
    """Wait ``seconds`` (None = until the sandbox stops); False when cut short by the stop."""
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        return True
    return False
