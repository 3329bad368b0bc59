"""A gateway that only writes each SMS to the log: for trying callwatch without any provider."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from types import TracebackType
from typing import Self

from monitor.notify.channel import OutgoingSms, SendReceipt
from monitor.notify.sms.segments import count_segments

log = logging.getLogger("callwatch.sms.console")


class ConsoleGateway:
    name = "console"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        provider_id = f"console-{uuid.uuid4().hex}"
        log.info("SMS to %s: %s", sms.to, sms.body, extra={"provider_id": provider_id})
        return SendReceipt(provider_id, "delivered", count_segments(sms.body).segments)

    async def find_sent(self, to: str, body: str, since: datetime) -> SendReceipt | None:
        # Nothing leaves the process, so there is nothing to find: resending is harmless.
        return None

    async def check(self) -> None:
        return None
