"""One device's subscription never takes ingest down for the others (issue #20, finding 1).

Mosquitto answers a filter it will not grant with a failure code for that filter alone
(SUBACK 0x80), but closes the connection over a filter it finds malformed; before this fix a
single such filter in the directory made every reconnect subscribe it again, and the monitor
heard nobody. Now each filter is checked before it is sent, refusals are per filter, and a
broker that closes the connection anyway has its culprit found and left out; every filter
left out is named on /healthz, and the rest keep flowing. Against real Mosquittos: the
session's, and one whose dynamic-security plugin refuses subscriptions.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import devices
from devices.base import DeviceProfile
from devices.topics import topic_filter_problem
from monitor.ingest import consumer, mqtt_client
from monitor.ingest.consumer import DROPS_TO_LEAVE_OUT, SUBSCRIBE_CHUNK, Subscriptions
from monitor.runtime.service import Monitor
from monitor.store.models import DeviceMessage
from simulator.harness.deployment import set_setting
from simulator.harness.mosquitto import Mosquitto
from simulator.sandbox import SmsSandbox
from tests.broker.mosquitto_model import hostile_text, hostile_topic
from tests.ingest.subscribing import left_out, monitor_connected, save_unchecked
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until

MONITOR_USER, MONITOR_PASSWORD = "callwatch-monitor", "monitor-Pa55-word"


@pytest.fixture(autouse=True)
def quick_directory_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest looks for directory changes every 5 s; a test need not wait that long."""
    monkeypatch.setattr(consumer, "DIRECTORY_CHECK_S", 0.05)


# -- the bookkeeping, on its own ------------------------------------------------------------------


def test_filters_that_break_the_rules_are_never_sent_and_the_rest_go_in_chunks() -> None:
    subscriptions = Subscriptions()
    good = [f"callwatch/{n:03}/+/event" for n in range(SUBSCRIBE_CHUNK + 1)]
    packets = subscriptions.plan([*good, "site\t2/+/event", "a/#/b"])
    assert packets == [good[:SUBSCRIBE_CHUNK], good[SUBSCRIBE_CHUNK:]]
    assert subscriptions.left_out == {
        "a/#/b": "never sent to the broker: it has # before its last level (# may only stand for the rest of a topic)",
        "site\t2/+/event": "never sent to the broker: it holds the control or invisible character U+0009",
    }


def test_a_refusal_is_for_its_filter_alone() -> None:
    subscriptions = Subscriptions()
    subscriptions.answered(["a/+", "b/+", "c/+"], [1, 0x80, 0])
    assert subscriptions.granted == {"a/+", "c/+"}
    assert subscriptions.left_out == {"b/+": "refused by the broker (SUBACK code 0x80)"}
    subscriptions.connected()  # a new connection asks again: the refusal may have been lifted
    assert subscriptions.plan(["a/+", "b/+", "c/+"]) == [["a/+", "b/+", "c/+"]]


def test_a_filter_that_costs_the_connection_is_found_and_left_out() -> None:
    subscriptions = Subscriptions()
    packet = ["a/+", "bad/+", "c/+"]
    subscriptions.lost(packet)  # the broker closed the connection over one of them
    subscriptions.connected()
    assert subscriptions.plan([*packet, "d/+"]) == [["d/+"], ["a/+"], ["bad/+"], ["c/+"]]
    subscriptions.answered(["a/+"], [1])
    for _ in range(DROPS_TO_LEAVE_OUT):
        subscriptions.connected()
        assert subscriptions.plan(["bad/+", "c/+"])[0] == ["bad/+"]
        subscriptions.lost(["bad/+"])
    subscriptions.connected()
    assert subscriptions.plan(["a/+", "bad/+", "c/+"]) == [["a/+"], ["c/+"]]
    assert subscriptions.left_out["bad/+"].startswith("the broker closed the connection each time it was asked")


# -- against the session's Mosquitto, with a running monitor ----------------------------------------


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Subscriptions do not depend on the database: SQLite is enough."""
    return f"sqlite+aiosqlite:///{tmp_path / 'callwatch.db'}"


@pytest.fixture
async def running(deployment: Deployment) -> AsyncIterator[Monitor]:
    async with monitor_connected(deployment) as monitor:
        yield monitor


#: a device row of any family, with hostile text wherever the directory checks today: what a
#: database written before those checks (or by hand) may hold. Not NUL or lone surrogates:
#: the databases themselves refuse those.
unchecked_devices = st.lists(
    st.tuples(
        st.sampled_from(sorted(devices.registry())),
        hostile_topic(surrogates=False).filter(lambda topic: "\x00" not in topic and 0 < len(topic) <= 256),
        st.none() | hostile_text(surrogates=False, max_size=40).filter(lambda serial: "\x00" not in serial),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=unchecked_devices)
async def test_hostile_topics_in_the_directory_never_stop_ingest_for_the_good_devices(
    running: Monitor, deployment: Deployment, rows: list[tuple[str, str, str | None]]
) -> None:
    """They accumulate from example to example: by the end the monitor lives with hundreds."""
    connection = running.ingest.client
    wanted: set[str] = set()
    for protocol, topic, serial in rows:
        device_id = f"h-{uuid.uuid4().hex[:10]}"
        await save_unchecked(running.database, device_id, topic, protocol=protocol, serial=serial)
        profile = DeviceProfile(device_id=device_id, kind="button", topic=topic, serial=serial)
        wanted.update(devices.registry()[protocol].topic_filters(profile))
    subscriptions = running.ingest.subscriptions
    await until(
        lambda: wanted <= subscriptions.granted | subscriptions.left_out.keys(),
        what="the new devices' filters subscribed or left out",
    )
    # Every filter the rules let through is granted (the broker closed nothing), every other
    # is left out for that reason, and the connection is the one from before.
    for topic_filter in wanted:
        if topic_filter_problem(topic_filter) is None:
            assert topic_filter in subscriptions.granted, (topic_filter, subscriptions.left_out.get(topic_filter))
        else:
            assert subscriptions.left_out[topic_filter].startswith("never sent to the broker"), topic_filter
    assert running.ingest.client is connection

    # And a good device is heard right after.
    event_id = uuid.uuid4().hex[:12]
    await deployment.publish("callwatch/btn-1/event", json.dumps({"type": "heartbeat", "id": event_id}))

    async def stored() -> bool:
        async with running.database.read() as session:
            payloads = (
                await session.scalars(
                    select(DeviceMessage.payload).where(DeviceMessage.topic == "callwatch/btn-1/event")
                )
            ).all()
        return any(event_id.encode() in bytes(payload) for payload in payloads)

    await until(stored, what="the good device's heartbeat stored")


async def test_a_broker_that_closes_the_connection_over_a_filter_costs_only_that_filter(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the check had a gap, or the broker a rule of its own: the malformed filter reaches
    Mosquitto, which closes the connection; ingest finds the culprit and hears everyone else."""
    monkeypatch.setattr(consumer, "topic_filter_problem", lambda topic_filter: None)
    monkeypatch.setattr(
        consumer, "connect_options", lambda settings: {**mqtt_client.connect_options(settings), "timeout": 1}
    )
    async with monitor_connected(deployment) as monitor:
        await save_unchecked(monitor.database, "dev-tab2", "site\t2/dev-tab2")
        detail = await until(
            lambda: _names_both(deployment.web_url), within_s=60, what="/healthz naming both filters left out"
        )
        assert "the broker closed the connection each time it was asked for it" in detail
        assert "'dev-tab2'" in detail
        await deployment.press("btn-1")
        await deployment.sandbox.wait_for_messages(2, timeout=15)
    assert {message.to for message in deployment.sandbox.messages()} == set(TIER1)


async def _names_both(web_url: str) -> str | None:
    detail = await left_out(web_url)
    if detail and detail.startswith("2 topic filter(s) not subscribed") and "'dev-tab2'" in detail:
        return detail
    return None


# -- against a broker that refuses subscriptions (SUBACK 0x80) ---------------------------------------


def dynamic_security_plugin() -> str | None:
    found = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob("/usr/lib/mosquitto_dynamic_security.so")
    return found[0] if found else None


class RefusingBroker(Mosquitto):
    """Mosquitto with its dynamic-security plugin: the monitor's account may subscribe under
    ``callwatch/`` only, so any other filter gets SUBACK 0x80; anonymous devices may publish."""

    def __init__(self, folder: Path, plugin: str) -> None:
        super().__init__(folder)
        self.plugin = plugin

    def config_text(self) -> str:
        salt = os.urandom(12)
        digest = hashlib.pbkdf2_hmac("sha512", MONITOR_PASSWORD.encode(), salt, 101)
        rules: dict[str, Any] = {
            "clients": [
                {
                    "username": MONITOR_USER,
                    "password": base64.b64encode(digest).decode(),
                    "salt": base64.b64encode(salt).decode(),
                    "iterations": 101,
                    "roles": [{"rolename": "monitor"}],
                }
            ],
            "roles": [
                {
                    "rolename": "monitor",
                    "acls": [{"acltype": "subscribePattern", "topic": "callwatch/#", "allow": True}],
                }
            ],
            "defaultACLAccess": {
                "publishClientSend": True,
                "publishClientReceive": True,
                "subscribe": False,
                "unsubscribe": True,
            },
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "dynamic-security.json").write_text(json.dumps(rules))
        return "\n".join(
            [
                f"listener {self.port} {self.host}",
                "allow_anonymous true",
                f"plugin {self.plugin}",
                f"plugin_opt_config_file {self.folder / 'dynamic-security.json'}",
                f"log_dest file {self.log_path}",
                # otherwise Mosquitto drops to 'mosquitto', who can read neither our folder nor the rules
                *(["user root"] if os.geteuid() == 0 else []),
                "",
            ]
        )


@pytest.fixture
def refusing(tmp_path: Path) -> Iterator[RefusingBroker]:
    plugin = dynamic_security_plugin()
    if plugin is None:
        pytest.skip("Mosquitto's dynamic-security plugin is not installed")
    with RefusingBroker(tmp_path / "refusing", plugin) as broker:
        yield broker


async def test_a_filter_the_broker_refuses_is_named_and_the_rest_flow(
    tmp_path: Path, refusing: RefusingBroker, sandbox: SmsSandbox, database_url: str, web_port: int
) -> None:
    deployment = Deployment(
        folder=tmp_path, broker=refusing, sandbox=sandbox, database_url=database_url, web_port=web_port
    )
    deployment.write_files(
        directory_extra='[[devices]]\nid = "elsewhere-1"\nresident = "r-1"\nprotocol = "native"\n'
        'topic = "elsewhere/elsewhere-1"\n'
    )
    set_setting(
        deployment, "mqtt", "url", f'"mqtt://{MONITOR_USER}:{MONITOR_PASSWORD}@{refusing.host}:{refusing.port}"'
    )
    async with monitor_connected(deployment) as monitor:
        detail = await until(lambda: left_out(deployment.web_url), what="/healthz naming the refused filters")
        assert "'elsewhere-1'" in detail and "elsewhere/" not in detail  # devices, never topics, on /healthz
        assert "refused by the broker (SUBACK code 0x80)" in detail
        assert {"callwatch/+/event", "callwatch/+/status"} <= monitor.ingest.subscriptions.granted
        await deployment.press("btn-2")
        await deployment.sandbox.wait_for_messages(2, timeout=15)
    assert {message.to for message in deployment.sandbox.messages()} == set(TIER1)
