"""The MQTT client: aiomqtt with acknowledgement under the application's control.

paho-mqtt 2 can hold back the PUBACK of a received QoS 1 message until the application
calls ``ack`` (``manual_ack``); aiomqtt 2.5 does not expose it yet
(https://github.com/empicano/aiomqtt/issues/345). ``AckingClient`` switches it on in the
constructor, before the connection exists, so even the messages a persistent session
delivers right after CONNACK wait for our commit. This is the only place that touches
aiomqtt's private paho client.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiomqtt

from monitor.config import MqttSettings


class AckingClient(aiomqtt.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client.manual_ack_set(True)

    def ack(self, message: aiomqtt.Message) -> None:
        """Tell the broker this message is safely stored; it will not be delivered again."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)


def connect_options(settings: MqttSettings) -> dict[str, Any]:
    """aiomqtt.Client arguments for a monitor: fixed id, persistent session, MQTT 3.1.1."""
    options: dict[str, Any] = {
        "hostname": settings.host,
        "port": settings.port,
        "identifier": settings.client_id,
        "clean_session": False,
        "keepalive": settings.keepalive_s,
        "protocol": aiomqtt.ProtocolVersion.V311,
        "username": settings.username,
        "password": settings.password,
        "timeout": 10,
    }
    if settings.tls:
        context = ssl.create_default_context(cafile=settings.ca_file)
        options["tls_context"] = context
    return options


def subscription_topic(topic_filter: str, shared_group: str) -> str:
    """The filter as subscribed: ``$share/<group>/<filter>`` when monitors share the load."""
    return f"$share/{shared_group}/{topic_filter}" if shared_group else topic_filter
