"""The MQTT client: aiomqtt with acknowledgement under the application's control.

paho-mqtt 2 can hold back the PUBACK of a received QoS 1 message until the application
calls ``ack`` (``manual_ack``); aiomqtt 2.5 does not expose it yet
(https://github.com/empicano/aiomqtt/issues/345). ``AckingClient`` switches it on in the
constructor, before the connection exists, so even the messages a persistent session
delivers right after CONNACK wait for our commit.

paho reads each packet with three or more ``recv`` calls (type byte, length bytes, body)
and, driven by aiomqtt, handles one packet per readable event: under load most of what
receiving costs. ``AckingClient`` reads the socket in large chunks and lets paho parse
every packet of a chunk in one go.

This is the only place that touches aiomqtt's private paho client.
"""

from __future__ import annotations

import ssl
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.types import PahoSocket
from paho.mqtt.enums import MQTTErrorCode

from monitor.config.settings import MqttSettings

#: bytes taken from the socket at a time: a few hundred heartbeats
READ_CHUNK = 65536


class AckingClient(aiomqtt.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client.manual_ack_set(True)
        self._reading = _ChunkedReading(self._client)

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: PahoSocket) -> None:
        self._reading.forget()  # bytes of an earlier connection are not the start of this one
        super()._on_socket_open(client, userdata, sock)

    def ack(self, message: aiomqtt.Message) -> None:
        """Tell the broker this message is safely stored; it will not be delivered again."""
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)


class _ChunkedReading:
    """paho's socket reads served from one large ``recv``, and every packet of it parsed per wake-up.

    paho asks for one byte, then one, then the body; answering from a buffer turns those
    into slices. ``loop_read`` keeps going while the buffer holds bytes, so none wait for a
    readable event that will not come (the socket has already given them up).
    """

    def __init__(self, client: paho.Client) -> None:
        self._sock_recv = client._sock_recv
        self._loop_read = client.loop_read
        self._buffer = memoryview(b"")
        client._sock_recv = self.recv  # type: ignore[method-assign]
        client.loop_read = self.loop_read  # type: ignore[method-assign]

    def forget(self) -> None:
        self._buffer = memoryview(b"")

    def recv(self, bufsize: int) -> bytes:
        if not self._buffer:
            chunk = self._sock_recv(READ_CHUNK)  # paho's own: it turns TLS's want-read into BlockingIOError
            if not chunk:
                return chunk  # the broker closed the connection
            self._buffer = memoryview(chunk)
        piece = self._buffer[:bufsize]
        self._buffer = self._buffer[bufsize:]
        return bytes(piece)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        result = self._loop_read(max_packets)
        while self._buffer and result == MQTTErrorCode.MQTT_ERR_SUCCESS:
            result = self._loop_read(max_packets)
        return result


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
