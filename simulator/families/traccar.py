"""Traccar's MQTT forwarder, for GPS watches: every watch on one topic (``events``), each message
``{"event": ..., "position": ..., "device": {"uniqueId": <IMEI>}}``; a position alone is a
location. The watches talk to the Traccar server, not to the broker, so "offline" is Traccar's
``deviceOffline`` event, not a Last Will."""

from __future__ import annotations

from datetime import UTC, datetime

from simulator.families.base import DeviceState, Publication, Unsupported

ALARMS = {"sos": "sos", "fall": "fallDown"}
KNOTS_PER_KMH = 1 / 1.852


class TraccarFamily:
    protocol = "traccar"
    press_actions: tuple[str, ...] = ()
    has_last_will = False

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        alarm = ALARMS.get(meaning)
        if alarm is None:
            raise Unsupported(f"{device.spec.id}: a Traccar watch raises sos or fall alarms, not {meaning!r}")
        return [self._message(device, "alarm", {"alarm": alarm})]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        return self.location(device)

    def battery_report(self, device: DeviceState) -> list[Publication]:
        if device.battery <= 15:
            return [self._message(device, "alarm", {"alarm": "lowBattery"})]
        return self.location(device)

    def location(self, device: DeviceState) -> list[Publication]:
        return [self._message(device, None, {})]

    def region(self, device: DeviceState, name: str, transition: str) -> list[Publication]:
        kind = {"enter": "geofenceEnter", "leave": "geofenceExit"}[transition]
        geofence = {"id": 3, "name": name, "description": None, "area": "", "calendarId": 0, "attributes": {}}
        return [self._message(device, kind, {}, geofence=geofence)]

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return self._message(device, "deviceOnline" if online else "deviceOffline", {}, with_position=False)

    def _message(
        self,
        device: DeviceState,
        event_type: str | None,
        attributes: dict[str, object],
        *,
        geofence: dict[str, object] | None = None,
        with_position: bool = True,
    ) -> Publication:
        now = datetime.fromtimestamp(device.clock(), UTC).isoformat(timespec="milliseconds")
        position_id = device.next_number("position", 100)
        body: dict[str, object] = {"device": self._device(device)}
        if with_position:
            if device.fix is None:
                raise Unsupported(f"{device.spec.id}: a Traccar watch reports positions; give it one first")
            body["position"] = {
                "id": position_id,
                "deviceId": self._traccar_id(device),
                "protocol": "watch",
                "serverTime": now,
                "deviceTime": now,
                "fixTime": now,
                "outdated": False,
                "valid": True,
                "latitude": round(device.fix.lat, 6),
                "longitude": round(device.fix.lon, 6),
                "speed": round(device.fix.speed_kmh * KNOTS_PER_KMH, 2),
                "accuracy": device.fix.accuracy_m,
                "attributes": {"batteryLevel": device.battery, "rssi": 4, **attributes},
            }
        if event_type is not None:
            body["event"] = {
                "id": device.next_number("event_id", 500),
                "type": event_type,
                "deviceId": self._traccar_id(device),
                "positionId": position_id if with_position else 0,
                "eventTime": now,
                "geofenceId": geofence["id"] if geofence else 0,
                "attributes": attributes,
            }
        if geofence is not None:
            body["geofence"] = geofence
        return Publication.json(device.spec.topic, body)

    def _device(self, device: DeviceState) -> dict[str, object]:
        return {
            "id": self._traccar_id(device),
            "name": device.spec.id,
            "uniqueId": device.spec.serial or device.spec.id,
            "status": "online",
            "category": "person",
            "disabled": False,
            "attributes": {},
        }

    @staticmethod
    def _traccar_id(device: DeviceState) -> int:
        return sum(device.spec.id.encode()) % 10_000


FAMILY = TraccarFamily()
