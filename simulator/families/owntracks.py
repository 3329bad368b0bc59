"""OwnTracks, the phone app: retained locations on the base topic, region transitions on
``<topic>/event``, ``{"_type":"lwt"}`` as its Last Will. Its only "button" is a location the
user publishes by hand (``t: "u"``), which the directory's action map can make an SOS."""

from __future__ import annotations

from simulator.families.base import DeviceState, Fix, Publication, Unsupported


class OwnTracksFamily:
    protocol = "owntracks"
    press_actions: tuple[str, ...] = ("manual",)
    has_last_will = True

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        device.action_for(meaning, self.press_actions)  # raises Unsupported unless the action map allows it
        # The adapter's event id is the fix time in seconds: two presses need two distinct seconds.
        return [self._location(device, trigger="u", tst=self._fresh_second(device))]

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        return [self._location(device, trigger="p")]

    def battery_report(self, device: DeviceState) -> list[Publication]:
        return [self._location(device, trigger="p")]

    def location(self, device: DeviceState) -> list[Publication]:
        return [self._location(device, trigger="t")]

    def region(self, device: DeviceState, name: str, transition: str) -> list[Publication]:
        fix = self._fix(device)
        body = {
            "_type": "transition",
            "event": transition,
            "desc": name,
            "lat": fix.lat,
            "lon": fix.lon,
            "acc": round(fix.accuracy_m),
            "tst": int(device.clock()),
            "wtst": int(device.clock()) - 86400,
            "t": "c",
            "tid": _tracker_id(device),
        }
        return [Publication.json(f"{device.spec.topic}/event", body)]

    def availability(self, device: DeviceState, online: bool) -> Publication:
        if online:
            return self._location(device, trigger="p")  # the app announces no "online": its next fix is the sign
        return Publication.json(device.spec.topic, {"_type": "lwt", "tst": int(device.clock())})

    def _location(self, device: DeviceState, *, trigger: str, tst: int | None = None) -> Publication:
        fix = self._fix(device)
        body = {
            "_type": "location",
            "lat": round(fix.lat, 6),
            "lon": round(fix.lon, 6),
            "acc": round(fix.accuracy_m),
            "vel": round(fix.speed_kmh),
            "batt": device.battery,
            "bs": 1,
            "conn": "m",
            "t": trigger,
            "tid": _tracker_id(device),
            "tst": tst if tst is not None else int(device.clock()),
        }
        return Publication.json(device.spec.topic, body, retain=True)

    @staticmethod
    def _fix(device: DeviceState) -> Fix:
        if device.fix is None:
            raise Unsupported(f"{device.spec.id}: an OwnTracks phone reports positions; give it one first")
        return device.fix

    @staticmethod
    def _fresh_second(device: DeviceState) -> int:
        now = int(device.clock())
        last = device.counters.get("manual_tst", 0)
        device.counters["manual_tst"] = max(now, last + 1)
        return device.counters["manual_tst"]


def _tracker_id(device: DeviceState) -> str:
    return device.spec.id[-2:]


FAMILY = OwnTracksFamily()
