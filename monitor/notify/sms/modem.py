"""SMS through a GSM modem with a SIM card, by way of Gammu's SMS daemon (``gammu-smsd``).

gammu-smsd owns the modem; callwatch and it share a spool of folders
(``monitor.notify.sms.gammu_spool``). Sending is writing a file into the outbox: the modem
sends free text (long and Chinese texts split into concatenated UCS-2 parts by Gammu), never
templates. Whether a message left is read from the folder its file is in, which is also how
a message handed over just before a crash is found instead of sent twice (``find_sent``).
Replies and what became of each message are fetched from the spool (``Mailbox``): a modem
cannot call a web hook.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from monitor.config.settings import ModemSettings
from monitor.notify.channel import (
    FailureKind,
    Outgoing,
    ReceivedSms,
    ReportedStatus,
    SendFailure,
    SendReceipt,
)
from monitor.notify.requests import ASKING, SMS, NotificationStatus
from monitor.notify.sms import gammu_spool
from monitor.notify.sms.gammu_spool import Spool
from monitor.notify.sms.segments import count_segments

log = logging.getLogger("callwatch.notify.modem")

#: sent and refused files are deleted this long after their status was recorded (they hold the text)
KEEP_REPORTED_S = 2 * 86400
#: how often those are looked for
TIDY_EVERY_S = 3600.0
#: prefix of the ids of replies fetched from the modem's inbox
REPLY_PREFIX = "modem-in:"


def provider_id(notification_id: int) -> str:
    return f"modem:{notification_id}"


def e164(number: str, country_code: str) -> str:
    """A number as the modem reports it (``+8613900000001``, ``008613900000001``, ``13900000001``)
    in E.164; a national one is in ``country_code``'s country (its trunk 0 dropped)."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return country_code + digits.removeprefix("0")


class ModemSms:
    """The SMS channel through gammu-smsd's files spool."""

    name = SMS
    provider = "modem"

    def __init__(self, settings: ModemSettings) -> None:
        self.settings = settings
        self.links = settings.links
        self.poll_every_s = settings.poll_s
        self._spool: Spool | None = None
        #: what the last ``fetch`` returned, by provider id: the file to drop or mark once recorded
        self._fetched: dict[str, Path] = {}
        self._tidied_at: float | None = None

    async def __aenter__(self) -> Self:
        self._spool = await asyncio.to_thread(gammu_spool.read_smsdrc, Path(self.settings.smsdrc))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._spool = None

    @property
    def spool(self) -> Spool:
        if self._spool is None:
            raise RuntimeError(f"{type(self).__name__} used outside its 'async with' block")
        return self._spool

    async def send(self, outgoing: Outgoing) -> SendReceipt:
        await self._refuse_if_stalled()
        now = datetime.now()  # gammu-smsd's own names are local time too
        urgent = outgoing.message.template in ASKING
        if outgoing.notification_id is None:
            # A message without a row (the duty alarm when the database is down): nothing to settle.
            name = f"OUTA{now:%Y%m%d_%H%M%S}_00_{outgoing.to}_direct{uuid.uuid4().hex[:12]}.txt"
            receipt_id = f"modem:{name}"
        else:
            name = gammu_spool.outbox_name(outgoing.to, outgoing.notification_id, urgent=urgent, at=now)
            receipt_id = provider_id(outgoing.notification_id)
        try:
            await asyncio.to_thread(gammu_spool.hand_over, self.spool, name, outgoing.message.text)
        except OSError as exc:
            raise SendFailure(FailureKind.TEMPORARY, "spool", f"cannot write {self.spool.outbox}: {exc}") from exc
        return SendReceipt(receipt_id, NotificationStatus.QUEUED.value, count_segments(outgoing.message.text).segments)

    async def find_sent(self, outgoing: Outgoing, since: datetime) -> SendReceipt | None:
        if outgoing.notification_id is None:
            return None
        found = await asyncio.to_thread(gammu_spool.find, self.spool, outgoing.notification_id)
        if found is None:
            return None
        # Handed over: gammu-smsd sends it (or has); the sent and error folders say the rest (fetch).
        segments = count_segments(outgoing.message.text).segments
        return SendReceipt(provider_id(outgoing.notification_id), NotificationStatus.QUEUED.value, segments)

    async def check(self) -> None:
        for folder in self.spool.folders:
            if not await asyncio.to_thread(_usable, folder):
                missing = f"gammu-smsd's folder {folder} is missing or not ours"
                raise SendFailure(FailureKind.TEMPORARY, "spool", missing)
        await self._refuse_if_stalled()

    async def _refuse_if_stalled(self) -> None:
        try:
            stalled_s = await asyncio.to_thread(gammu_spool.waiting_without_progress_s, self.spool, time.time())
        except OSError as exc:
            raise SendFailure(FailureKind.TEMPORARY, "spool", f"cannot read gammu-smsd's folders: {exc}") from exc
        if stalled_s > self.settings.stalled_after_s:
            raise SendFailure(
                FailureKind.TEMPORARY,
                "stalled",
                f"messages have waited in {self.spool.outbox} for {stalled_s:.0f} s with none sent: "
                "is gammu-smsd running, and the modem on the network?",
            )

    def delivery_report(self, fields: Mapping[str, str], received_at: datetime) -> ReportedStatus | None:
        return None  # the modem's news is fetched from the spool (fetch), not posted to a web hook

    async def fetch(self) -> tuple[list[ReceivedSms], list[ReportedStatus]]:
        return await asyncio.to_thread(self._fetch)

    def _fetch(self) -> tuple[list[ReceivedSms], list[ReportedStatus]]:
        spool = self.spool
        fetched: dict[str, Path] = {}
        replies = []
        for message in gammu_spool.received(spool):
            if message.status_report:
                # Pairing a network's status report with its message needs the message reference,
                # which the files spool does not keep: the sent folder is what the modem tells.
                log.info("status report from %s: %s", message.number, message.text)
                message.path.unlink(missing_ok=True)
                continue
            reply_id = (REPLY_PREFIX + message.path.stem)[:64]
            fetched[reply_id] = message.path
            replies.append(ReceivedSms(reply_id, e164(message.number, self.settings.country_code), message.text))
        now = datetime.now().astimezone()
        reports = []
        for folder, status in ((spool.sent, NotificationStatus.SENT), (spool.error, NotificationStatus.FAILED)):
            for path in gammu_spool.unreported(folder):
                notification_id = gammu_spool.notification_id_of(path.name)
                if notification_id is None:
                    continue
                fetched[provider_id(notification_id)] = path
                error = "modem" if status is NotificationStatus.FAILED else None
                reports.append(ReportedStatus(provider_id(notification_id), status.value, error, now))
        self._fetched = fetched
        self._tidy(spool)
        return replies, reports

    def _tidy(self, spool: Spool) -> None:
        if self._tidied_at is not None and time.monotonic() - self._tidied_at < TIDY_EVERY_S:
            return
        self._tidied_at = time.monotonic()
        for folder in (spool.sent, spool.error):
            gammu_spool.forget_older_than(folder, time.time() - KEEP_REPORTED_S)

    async def forget(self, provider_id: str) -> None:
        path = self._fetched.pop(provider_id, None)
        if path is None:
            return
        if provider_id.startswith(REPLY_PREFIX):
            await asyncio.to_thread(path.unlink, missing_ok=True)
        else:
            await asyncio.to_thread(gammu_spool.mark_reported, path)


def _usable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK)
