"""Feedback to a resident's device: what became of the alert it raised (docs/native-protocol.md, "Feedback")."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

import devices
from devices.base import DeviceProfile
from monitor.alerts.lifecycle import URGENT_KINDS
from monitor.core.effects import DeviceFeedback, Effects
from monitor.store.models import Alert, Device


def profile_of(device: Device) -> DeviceProfile:
    return DeviceProfile(
        device_id=device.id,
        kind=device.kind,
        topic=device.topic,
        serial=device.serial,
        action_map={str(key): str(value) for key, value in device.action_map.items()},
    )


def first_name(full_name: str) -> str:
    """The name a device screen shows: the first word ("Li Ming" -> "Li", "李明" -> "李明")."""
    return full_name.split()[0] if full_name.split() else full_name


async def queue_feedback(
    session: AsyncSession,
    effects: Effects,
    alert: Alert,
    state: str,
    by: str | None = None,
    *,
    event_id: str | None = None,
    eta_min: int | None = None,
) -> None:
    """Tell the alert's device its new ``state`` (received/acknowledged/en_route/on_site/resolved/cancelled).

    ``event_id``: the press this answers, when it is not the one that raised the alert (a
    resident pressing again): the device matches feedback to its own press by that id.
    ``eta_min``: with en_route, in how many minutes the person on the way expects to be there.
    """
    if alert.device_id is None or alert.kind not in URGENT_KINDS:
        return  # only a press (an SOS, a fall) asked for an answer; supervision's alerts asked nothing
    device = await session.get(Device, alert.device_id)
    if device is None:
        return
    adapter = devices.registry().get(device.protocol)
    topic = adapter.feedback_topic(profile_of(device)) if adapter is not None else None
    if topic is None:
        return
    effects.feedback.append(
        DeviceFeedback(
            topic=topic,
            payload={
                "event_id": event_id or alert.event_id,
                "alert_id": alert.id,
                "state": state,
                "by": by,
                **({"eta_min": eta_min} if eta_min is not None else {}),
            },
        )
    )
