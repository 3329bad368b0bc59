"""What the web handlers need from the running monitor, passed in explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.alerts.actions import AlertActions
from monitor.alerts.replies import ReplyHandler
from monitor.clock import Clock
from monitor.config import Settings
from monitor.effects import AfterCommit
from monitor.escalation import Escalation
from monitor.health import Health
from monitor.live import AlertChanges
from monitor.metrics import Metrics
from monitor.sms.delivery import ReportedStatus
from monitor.store.database import Database
from monitor.store.group_commit import GroupCommit


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    database: Database
    replies: ReplyHandler
    actions: AlertActions
    escalation: Escalation
    after_commit: AfterCommit
    health: Health
    metrics: Metrics
    clock: Clock
    #: committed alert changes, for the console's live board
    changes: AlertChanges
    #: the provider's delivery reports, written in shared commits
    delivery_reports: GroupCommit[ReportedStatus]
