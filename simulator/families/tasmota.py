"""Tasmota: button presses on ``stat/<topic>/RESULT``, telemetry on ``tele/<topic>/STATE`` every
TelePeriod, and ``tele/<topic>/LWT`` ``Online``/``Offline`` (retained), its Last Will. Mains
powered: no battery."""

from __future__ import annotations

import time

from simulator.families.base import DeviceState, PositionlessFamily, Publication, Unsupported


class TasmotaFamily(PositionlessFamily):
    protocol = "tasmota"
    devices = "Tasmota devices"
    press_actions: tuple[str, ...] = ("SINGLE", "DOUBLE", "TRIPLE", "HOLD")
    has_last_will = True

    def press(self, device: DeviceState, meaning: str) -> list[Publication]:
        action = device.action_for(meaning, self.press_actions)
        pressed = [Publication.json(f"stat/{device.spec.topic}/RESULT", {"Button1": {"Action": action}})]
        if action == "HOLD":  # letting go of a held button sends CLEAR
            pressed.append(Publication.json(f"stat/{device.spec.topic}/RESULT", {"Button1": {"Action": "CLEAR"}}))
        return pressed

    def heartbeat(self, device: DeviceState) -> list[Publication]:
        uptime = device.next_number("telemetry") * 300
        body = {
            "Time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(device.clock())),
            "Uptime": f"0T{uptime // 3600:02d}:{uptime % 3600 // 60:02d}:00",
            "UptimeSec": uptime,
            "Heap": 26,
            "SleepMode": "Dynamic",
            "Sleep": 50,
            "LoadAvg": 19,
            "MqttCount": 1,
            "POWER": "OFF",
            "Wifi": {"AP": 1, "SSId": "care-net", "Channel": 6, "Mode": "11n", "RSSI": 70, "Signal": -65},
        }
        return [Publication.json(f"tele/{device.spec.topic}/STATE", body)]

    def battery_report(self, device: DeviceState) -> list[Publication]:
        raise Unsupported(f"{device.spec.id}: Tasmota devices are mains powered and report no battery")

    def availability(self, device: DeviceState, online: bool) -> Publication:
        return Publication.text(f"tele/{device.spec.topic}/LWT", "Online" if online else "Offline", retain=True)


FAMILY = TasmotaFamily()
