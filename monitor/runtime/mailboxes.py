"""Replies and delivery reports fetched from providers that keep them for callwatch (a GSM modem's
spool), instead of pushing them to a web hook.

Each reply goes through the same reply grammar and actions door as a pushed one; each report
moves its message on as a pushed report does. Only once that is committed is the provider told
to forget it, so a crash in between fetches it again, and its id makes the second time change
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.actions.replies import InboundReply, ReplyHandler
from monitor.actions.responses import ReplyOutcome
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects, commit_then_apply
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.notify.channel import Mailbox, ReportedStatus
from monitor.store.database import Database
from monitor.store.group_commit import GroupCommit

log = logging.getLogger("callwatch.mailboxes")


class Mailboxes:
    def __init__(
        self,
        boxes: Sequence[Mailbox],
        *,
        database: Database,
        after_commit: AfterCommit,
        replies: ReplyHandler,
        delivery_reports: GroupCommit[ReportedStatus],
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self.boxes = list(boxes)
        self.database = database
        self.after_commit = after_commit
        self.replies = replies
        self.delivery_reports = delivery_reports
        self.clock = clock
        self.metrics = metrics

    async def run(self, stop: LoopStop) -> None:
        every = min(box.poll_every_s for box in self.boxes)
        while not stop.requested:
            for box in self.boxes:
                try:
                    await self.collect(box)
                except Exception:
                    log.exception("fetching replies and delivery reports failed; trying again")
            await stop.idle(every)

    async def collect(self, box: Mailbox) -> None:
        """Record what ``box`` holds: replies first (someone may be on their way), then reports."""
        replies, reports = await box.fetch()
        for received in replies:
            reply = InboundReply(received.provider_id, received.from_phone, received.body)

            async def handle(session: AsyncSession, effects: Effects, reply: InboundReply = reply) -> ReplyOutcome:
                return await self.replies.handle(session, effects, reply, self.clock.now())

            outcome = await commit_then_apply(self.database, self.after_commit, handle, urgent=True)
            self.metrics.sms_replies.labels(outcome=outcome.value).inc()
            log.info("reply %s from %s: %s", reply.provider_id, reply.from_phone, outcome.value)
            await box.forget(received.provider_id)
        for report in reports:
            await self.delivery_reports.submit(report)
            self.metrics.sms_delivery.labels(status=report.status).inc()
            await box.forget(report.provider_id)
