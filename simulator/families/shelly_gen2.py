"""Shelly Gen2/Plus (Plus i4...): JSON-RPC notifications on ``<id>/events/rpc`` —
``NotifyEvent`` with ``single_push``/``long_push``..., ``NotifyStatus`` on changes,
``NotifyFullStatus`` with the battery — and ``<id>/online`` ``true``/``false`` (retained), its
Last Will."""

from __future__ import annotations

from simulator.families.base import DeviceState, PositionlessFamily, Publication
from simulator.families.shelly import online_flag


class ShellyGen2Family(PositionlessFamily):
    protocol = "shelly_gen2"
    devices = "Shelly devices"
    press_actions: tuple[str, ...] = ("single_push", "double_push", "triple_push", "long_push")
    has_last_will = True

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        action = device.action_for(meaning, self.press_actions)
        now = round(device.clock(), 2)
        events = [{"component": "input:0", "id": 0, "event": action, "ts": now}]
        return [self._rpc(device, "NotifyEvent", {"ts": now, "events": events})]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        wifi = {"sta_ip": "192.168.1.50", "status": "got ip", "ssid": "care-net", "rssi": -58}
        return [self._rpc(device, "NotifyStatus", {"ts": round(device.clock(), 2), "wifi": wifi})]

    def battery_report(self, device: DeviceState) -> list[Publication]:
        power = {"id": 0, "battery": {"V": round(3.0 + device.battery * 0.03, 2), "percent": device.battery}}
        params = {"ts": round(device.clock(), 2), "devicepower:0": {**power, "external": {"present": False}}}
        return [self._rpc(device, "NotifyFullStatus", params)]

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return online_flag(device, online)

    def _rpc(self, device: DeviceState, method: str, params: dict[str, object]) -> Publication:
        source = device.spec.topic
        body = {"src": source, "dst": f"{source}/events", "method": method, "params": params}
        return Publication.json(f"{device.spec.topic}/events/rpc", body)


FAMILY = ShellyGen2Family()
