"""Shelly Gen1 (the Shelly Button1): ``shellies/<id>/input_event/0`` ``{"event":"S","event_cnt":n}``
(the count tells a new press from a repeat), ``sensor/battery`` as plain text, and
``online`` ``true``/``false`` (retained), its Last Will. It sleeps between presses: a battery
report is its only sign of life."""

from __future__ import annotations

from simulator.families.base import DeviceState, PositionlessFamily, Publication


def online_flag(device: DeviceState, online: bool) -> Publication:
    """Both Shelly generations' Last Will and its opposite: ``<topic>/online``, retained."""
    return Publication.text(f"{device.spec.topic}/online", "true" if online else "false", retain=True)


class ShellyFamily(PositionlessFamily):
    protocol = "shelly"
    devices = "Shelly buttons"
    press_actions: tuple[str, ...] = ("S", "SS", "SSS", "L")
    has_last_will = True

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        action = device.action_for(meaning, self.press_actions)
        body = {"event": action, "event_cnt": device.next_number("event_cnt")}
        return [Publication.json(f"{device.spec.topic}/input_event/0", body)]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        return self.battery_report(device)

    def battery_report(self, device: DeviceState) -> list[Publication]:
        return [Publication.text(f"{device.spec.topic}/sensor/battery", str(device.battery))]

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return online_flag(device, online)


FAMILY = ShellyFamily()
