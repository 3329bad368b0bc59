"""What the web handlers need from the running monitor, passed in explicitly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.actions.alert_actions import AlertActions
from monitor.actions.replies import ReplyHandler
from monitor.config.settings import Settings
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit
from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.live.changes import AlertChanges
from monitor.notify.channel import Channel, ReportedStatus
from monitor.store.database import Database
from monitor.store.group_commit import GroupCommit


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    database: Database
    replies: ReplyHandler
    actions: AlertActions
    after_commit: AfterCommit
    health: Health
    metrics: Metrics
    clock: Clock
    #: committed alert changes, for the console's live board
    changes: AlertChanges
    #: every provider of the channels people are reached on (each reads its own delivery reports)
    channels: Sequence[Channel]
    #: the providers' delivery reports, written in shared commits
    delivery_reports: GroupCommit[ReportedStatus]
