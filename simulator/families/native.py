"""callwatch's own protocol: JSON events on ``<topic>/event``, the retained Last Will on ``<topic>/status``."""

from __future__ import annotations

from simulator.families.base import DeviceState, Publication

PRESS_TYPES = {"sos": "sos", "fall": "fall", "cancel": "cancel", "checkin": "checkin"}


class NativeFamily:
    protocol = "native"
    press_actions: tuple[str, ...] = ()
    has_last_will = True

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        return [self._event(device, PRESS_TYPES[meaning])]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        return [self._event(device, "heartbeat")]

    def battery_report(self, device: DeviceState) -> list[Publication]:
        kind = "low_battery" if device.battery <= 15 else "heartbeat"
        return [self._event(device, kind)]

    def location(self, device: DeviceState) -> list[Publication]:
        return [self._event(device, "location")]

    def region(self, device: DeviceState, name: str, transition: str) -> list[Publication]:
        return self.location(device)  # the native protocol has no regions: the position tells

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return Publication.text(f"{device.spec.topic}/status", "online" if online else "offline", retain=True)

    def _event(self, device: DeviceState, event_type: str) -> Publication:
        body: dict[str, object] = {
            "type": event_type,
            "id": device.event_id(),
            "ts": round(device.clock(), 3),
            "battery": device.battery,
        }
        if device.fix is not None:
            body.update(lat=round(device.fix.lat, 6), lon=round(device.fix.lon, 6), acc=round(device.fix.accuracy_m))
        return Publication.json(f"{device.spec.topic}/event", body)


FAMILY = NativeFamily()
