"""A channel that only writes each message to the log: for trying callwatch without any provider
(``[sms] provider = "console"``), standing in for the channel it is named after."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Self

from monitor.notify.channel import Outgoing, ReportedStatus, SendReceipt
from monitor.notify.requests import SMS
from monitor.notify.sms.segments import count_segments

log = logging.getLogger("callwatch.notify.log")


class LogChannel:
    provider = "log"
    links = True

    def __init__(self, name: str = SMS) -> None:
        self.name = name

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        provider_id = f"log-{uuid.uuid4().hex}"
        log.info("%s to %s: %s", self.name, outgoing.to, outgoing.message.text, extra={"provider_id": provider_id})
        return SendReceipt(provider_id, "delivered", count_segments(outgoing.message.text).segments)

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        # Nothing leaves the process, so there is nothing to find: resending is harmless.
        return None

    async def check(self) -> None:
        return None

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        return None
