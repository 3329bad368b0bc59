"""What the tests that drive the real outbox share: the outbox as the monitor builds it, with
limits of the test's choosing and nothing else to wire when a test has no use for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from monitor.config.settings import MqttSettings
from monitor.core.clock import Clock
from monitor.core.effects import AfterCommit, Effects
from monitor.core.health import Health
from monitor.core.metrics import Metrics
from monitor.notify.channel import Channel
from monitor.notify.delivery import UnreachableHook
from monitor.notify.outbox import Outbox
from monitor.store.database import Database
from monitor.store.models import Notification

#: how long the outbox keeps trying a notification: longer than any test runs
GIVE_UP_AFTER_S = 3600


async def nothing_after_commit(effects: Effects) -> None:
    """For outboxes whose tests look only at what was sent: nothing more to apply."""


async def nobody_to_escalate(
    session: AsyncSession, notification: Notification, now: datetime, effects: Effects
) -> None:
    return None


def outbox_for(
    database: Database,
    channels: Mapping[str, Channel] | Sequence[Channel],
    clock: Clock,
    *,
    metrics: Metrics | None = None,
    health: Health | None = None,
    instance_id: str = "test",
    lease_s: float = 30,
    after_commit: AfterCommit = nothing_after_commit,
    on_unreachable: UnreachableHook = nobody_to_escalate,
    phone_limit: int = 10,
    rate_per_s: float = 100,
    gone_after_s: float = MqttSettings().gone_after_s,
) -> Outbox:
    """An outbox sending through ``channels`` (by name; a channel's providers are its values' order
    in a ``Sequence``): the monitor's, with the test's limits and hooks."""
    return Outbox(
        database,
        list(channels.values()) if isinstance(channels, Mapping) else channels,
        clock,
        metrics or Metrics(),
        health or Health(clock),
        instance_id=instance_id,
        lease_s=lease_s,
        after_commit=after_commit,
        on_unreachable=on_unreachable,
        phone_limit=phone_limit,
        rate_per_s=rate_per_s,
        give_up_after_s=GIVE_UP_AFTER_S,
        gone_after_s=gone_after_s,
    )
