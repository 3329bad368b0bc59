"""zigbee2mqtt: the bridge publishes each device's whole state as JSON on ``zigbee2mqtt/<name>``
(an ``action`` followed by the same message with ``"action": ""``) and its availability,
retained, on ``<topic>/availability``. The devices have no MQTT connection of their own: the
bridge says when one went away, so going offline is the bridge's message, not a Last Will."""

from __future__ import annotations

from simulator.families.base import DeviceState, PositionlessFamily, Publication


class Zigbee2MqttFamily(PositionlessFamily):
    protocol = "zigbee2mqtt"
    devices = "zigbee buttons"
    press_actions: tuple[str, ...] = ("single", "double", "hold", "emergency")
    has_last_will = False

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        action = device.action_for(meaning, self.press_actions)
        return [self._state(device, action=action), self._state(device, action="")]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        return [Publication.json(device.spec.topic, {"linkquality": 120})]

    def battery_report(self, device: DeviceState) -> list[Publication]:
        return [self._state(device)]

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return Publication.json(
            f"{device.spec.topic}/availability", {"state": "online" if online else "offline"}, retain=True
        )

    def _state(self, device: DeviceState, *, action: str | None = None) -> Publication:
        body: dict[str, object] = {}
        if action is not None:
            body["action"] = action
        body.update(battery=device.battery, linkquality=140, voltage=2400 + 8 * device.battery)
        if device.battery <= 10:
            body["battery_low"] = True
        return Publication.json(device.spec.topic, body)


FAMILY = Zigbee2MqttFamily()
