"""Component health for /healthz and the console's banner: broker, database, SMS provider, loops,
and (only once ingest has left a device's topic filter out) subscriptions.

Several parts of the monitor may report on one component: the ingest loop and /healthz's
own ping both report on the database. A component is healthy only while none of its
reporters says otherwise, so a ping that still answers does not hide writes that fail
(SQLite locked by another process answers reads but refuses writers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.core.clock import Clock


@dataclass(slots=True)
class ComponentStatus:
    ok: bool
    detail: str
    since: datetime


#: "channel:provider": a part of a component, whose failure the component may ride out
PART = ":"


class Health:
    COMPONENTS = ("broker", "database", "sms")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        now = clock.now()
        #: component -> reporter -> what that reporter last said
        self._reports: dict[str, dict[str, ComponentStatus]] = {
            name: {"": ComponentStatus(ok=name != "broker", detail="starting", since=now)} for name in self.COMPONENTS
        }

    def mark(self, component: str, *, ok: bool, detail: str, reporter: str = "", since: datetime | None = None) -> None:
        """``since``: when it became so, where another monitor may have seen it first (a provider's row)."""
        reports = self._reports.setdefault(component, {})
        current = reports.get(reporter)
        if current is not None and current.ok == ok and (since is None or since == current.since):
            current.detail = detail
            return
        reports[reporter] = ComponentStatus(ok=ok, detail=detail, since=since or self.clock.now())

    @property
    def components(self) -> dict[str, ComponentStatus]:
        """Each component's status: its longest-standing failure, else its latest good news."""
        merged = {}
        for name, reports in self._reports.items():
            failing = [status for status in reports.values() if not status.ok]
            if failing:
                merged[name] = min(failing, key=lambda status: status.since)
            else:
                merged[name] = max(reports.values(), key=lambda status: status.since)
        return merged

    @property
    def ok(self) -> bool:
        return all(status.ok for reports in self._reports.values() for status in reports.values())

    @property
    def serving(self) -> bool:
        """Whether the service does its job: every component does, though a part of one may not
        ("sms:aliyun", one provider of several, down while the others carry the messages)."""
        return all(status.ok for name, status in self.components.items() if PART not in name)

    def report(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "degraded",
            "components": {
                name: {"ok": status.ok, "detail": status.detail, "since": status.since.isoformat()}
                for name, status in self.components.items()
            },
        }
