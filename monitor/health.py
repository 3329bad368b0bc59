"""Component health for /healthz: broker, database, SMS provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.clock import Clock


@dataclass(slots=True)
class ComponentStatus:
    ok: bool
    detail: str
    since: datetime


class Health:
    COMPONENTS = ("broker", "database", "sms")

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        now = clock.now()
        self.components: dict[str, ComponentStatus] = {
            name: ComponentStatus(ok=name != "broker", detail="starting", since=now) for name in self.COMPONENTS
        }

    def mark(self, component: str, *, ok: bool, detail: str) -> None:
        current = self.components.get(component)
        if current is not None and current.ok == ok:
            current.detail = detail
            return
        self.components[component] = ComponentStatus(ok=ok, detail=detail, since=self.clock.now())

    @property
    def ok(self) -> bool:
        return all(status.ok for status in self.components.values())

    def report(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "degraded",
            "components": {
                name: {"ok": status.ok, "detail": status.detail, "since": status.since.isoformat()}
                for name, status in self.components.items()
            },
        }
