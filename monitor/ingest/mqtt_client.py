"""The MQTT client: aiomqtt, with each message acknowledged to the broker only after its commit.

This is correctness, not tuning (invariant 1 in docs/architecture.md): the broker must forget
a device's message only once the monitor has committed what it caused. paho-mqtt 2 can hold
back the PUBACK of a received QoS 1 message until the application calls ``ack``
(``manual_ack``), but aiomqtt 2.5.1 offers no public way to it
(https://github.com/empicano/aiomqtt/issues/345). So ``AckingClient`` reaches the paho client
aiomqtt keeps in its private ``_client`` attribute, once, in its constructor: that is the one
private attribute this module (and callwatch) touches, and only paho's public ``manual_ack_set``
and ``ack`` are called on it. Manual acknowledgement is switched on there, before the connection
exists, so even the messages a persistent session delivers right after CONNACK wait for the
commit. Should a future aiomqtt keep no paho client there, the constructor raises
``MqttClientUnsupported`` saying so, rather than letting messages be acknowledged on receipt.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiomqtt
import paho.mqtt.client as paho

from monitor.config.settings import MqttSettings


class MqttClientUnsupported(RuntimeError):
    """The installed aiomqtt offers no paho client to acknowledge messages manually."""


class AckingClient(aiomqtt.Client):
    """An ``aiomqtt.Client`` whose QoS 1 messages are acknowledged by ``ack``, never on receipt."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paho = paho_client_of(self)
        self._paho.manual_ack_set(True)

    def ack(self, message: aiomqtt.Message) -> None:
        """Tell the broker this message is safely stored; it will not be delivered again."""
        if message.qos > 0:
            self._paho.ack(message.mid, message.qos)


def paho_client_of(client: aiomqtt.Client) -> paho.Client:
    """The paho client inside ``client``: the module's one private access (see its docstring)."""
    inner = getattr(client, "_client", None)
    if not isinstance(inner, paho.Client) or not all(
        callable(getattr(inner, name, None)) for name in ("manual_ack_set", "ack")
    ):
        raise MqttClientUnsupported(
            f"aiomqtt {getattr(aiomqtt, '__version__', '?')} keeps no paho-mqtt client with manual "
            "acknowledgement in Client._client, which callwatch needs to acknowledge a device's message "
            "only after it is committed (monitor/ingest/mqtt_client.py; "
            "https://github.com/empicano/aiomqtt/issues/345): use aiomqtt 2.5.x, or port AckingClient "
            "to the new version's own way of acknowledging."
        )
    return inner


def connect_options(settings: MqttSettings, client_id: str | None = None) -> dict[str, Any]:
    """aiomqtt.Client arguments for a monitor: fixed id, persistent session, MQTT 3.1.1.
    ``client_id``: another monitor's session, taken over after that monitor died."""
    options: dict[str, Any] = {
        "hostname": settings.host,
        "port": settings.port,
        "identifier": client_id or settings.client_id,
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
