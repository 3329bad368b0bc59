"""Baseline for the latency benchmark: MQTT straight to the SMS API, no database, no checks.

Subscribes to native event topics and, for every message, creates one SMS through the same
twilio client the monitor uses. It is what callwatch would be without storage, escalation
or any safety: the floor the monitor's latency is compared with.

    python -m bench.bare_forwarder MQTT_HOST MQTT_PORT SMS_API_BASE_URL
"""

from __future__ import annotations

import asyncio
import sys

import aiomqtt

from monitor.config.settings import SandboxSettings
from monitor.notify.channel import Outgoing
from monitor.notify.sms.twilio import TwilioSms
from monitor.notify.texts import Message


async def forward(host: str, port: int, api_base_url: str) -> None:
    settings = SandboxSettings(api_base_url=api_base_url).as_twilio()
    async with TwilioSms(settings) as gateway, aiomqtt.Client(host, port) as client:
        await client.subscribe("callwatch/+/event", qos=1)
        print("ready", flush=True)
        sending: set[asyncio.Task[object]] = set()  # held, so that no send is garbage-collected midway
        async for message in client.messages:
            device = message.topic.value.split("/")[1]
            task = asyncio.create_task(gateway.send(Outgoing("+8613900000001", Message("ask", f"SOS from {device}"))))
            sending.add(task)
            task.add_done_callback(sending.discard)


if __name__ == "__main__":
    asyncio.run(forward(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
