"""Baseline for the ingest benchmark: a plain paho loop that subscribes like the monitor
(QoS 1, the native event topics) and only counts. Prints its count every 0.1 s.

    python -m bench.bare_subscriber MQTT_HOST MQTT_PORT
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def main(host: str, port: int) -> None:
    counted = [0]
    ready = threading.Event()

    def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe("callwatch/+/event", qos=1)

    def on_subscribe(client: paho.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        ready.set()

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        counted[0] += 1

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare-subscriber", clean_session=True)
    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.max_inflight_messages_set(100)
    client.connect(host, port, 30)
    client.loop_start()
    ready.wait(10)
    print("ready", flush=True)
    while True:
        time.sleep(0.1)
        print(counted[0], flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
