"""Finding 1 of the second security review (issue #20), against the broker as shipped
(config/mosquitto.conf, TLS, accounts and ACL from `callwatch acl`):

- a device topic with a control character made the monitor blind: Mosquitto closes the
  connection of a client that subscribes a malformed filter, every retry subscribed it again,
  and no device's SOS was ingested until someone repaired that one topic;
- a line break in a topic was written into the ACL: the device could publish on another
  device's topic, and the monitor's own block was cut short.

Now the directory refuses such topics wherever they come from, `callwatch acl` refuses to
write them whoever asks, and a row that got into the database anyway (saved before the
check existed) costs only its own device: the monitor leaves its filter out, names it on
/healthz and on the console's banner, and hears every other device.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select

from monitor.core.errors import ConfigError
from monitor.directory.file import load_directory
from monitor.ingest import consumer
from monitor.runtime.service import Monitor
from monitor.store.database import Database
from monitor.store.models import ConsoleUser
from monitor.users.identity import Role
from monitor.users.tokens import issue_token
from simulator.harness.secured import secure
from simulator.harness.shipped_broker import ShippedBroker
from tests.ingest.subscribing import health, left_out, monitor_connected, save_unchecked
from tests.support.deployment import TIER1, Deployment
from tests.support.waiting import until
from tests.system.reliability.devices import DeviceClient, connected
from tests.web.support import ConsoleClient, add_user

TAB_TOPIC = "site\t2/dev-tab2"
TAB_FILTER = "site\t2/+/event"
INJECTION = "cam/inj\ntopic write callwatch/btn-1/event\nuser x"


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    """The broker's rules do not depend on the database: SQLite is enough."""
    return sqlite_only


@pytest.fixture(autouse=True)
def quick_directory_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest looks for directory changes every 5 s; a test need not wait that long."""
    monkeypatch.setattr(consumer, "DIRECTORY_CHECK_S", 0.2)


async def press(client: DeviceClient, topic: str, event_id: str) -> None:
    answer = await asyncio.to_thread(client.publish, topic, json.dumps({"type": "sos", "id": event_id}))
    assert answer == "Success", answer


async def admin_token(monitor: Monitor) -> str:
    await add_user(monitor, "admin", role=Role.ADMIN)
    async with monitor.database.write() as session:
        user = await session.scalar(select(ConsoleUser).where(ConsoleUser.name == "admin"))
        assert user is not None
        _, token = await issue_token(session, user, "test", monitor.clock.now())
    return token


async def test_a_topic_the_broker_would_refuse_costs_only_its_own_device(
    deployment: Deployment, shipped: ShippedBroker
) -> None:
    passwords = await secure(deployment, shipped)
    btn1 = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"]))
    btn2 = await connected(DeviceClient(shipped, "btn-2", passwords["btn-2"]))
    try:
        async with deployment.monitor() as monitor:
            token = await admin_token(monitor)
            async with httpx.AsyncClient(
                base_url=deployment.web_url, headers={"Authorization": f"Bearer {token}"}
            ) as api:
                # The issue's way in: an admin saves the topic over the API. Refused now, and
                # beside the field, in one line.
                put = await api.put(
                    "/api/directory/devices/dev-tab2",
                    json={"resident": "r-1", "protocol": "native", "topic": TAB_TOPIC},
                )
                assert put.status_code == 400, put.text
                assert put.json()["problems"] == {"topic": ["holds the control or invisible character U+0009"]}

                # A row saved before the check existed: ingest leaves its filter out and names it.
                await save_unchecked(monitor.database, "dev-tab2", TAB_TOPIC)
                detail = await until(lambda: left_out(deployment.web_url), what="/healthz naming the filter left out")
                # /healthz answers anyone: it names the device, never the topic (a topic may hold a name)
                assert "'dev-tab2'" in detail and "site" not in detail
                assert "control or invisible character U+0009" in detail

                # Every other device is heard: the SOS raises an alert and tier 1 is asked.
                await press(btn2, "callwatch/btn-2/event", "after-tab")
                await deployment.sandbox.wait_for_messages(2, timeout=15)
                status, components = await health(deployment.web_url)
                assert status == 503 and components["broker"]["ok"] and not components["subscriptions"]["ok"]

                # Duty staff see it on the board's banner.
                await add_user(monitor, "duty")
                async with ConsoleClient(deployment.web_url) as duty:
                    await duty.sign_in("duty")
                    board = (await duty.http.get("/")).text
                assert 'data-component="subscriptions"' in board
                assert "Some devices are not heard" in board and "dev-tab2" in board

                # Repaired at the console: the filter is subscribed and /healthz is healthy again.
                fixed = await api.put(
                    "/api/directory/devices/dev-tab2",
                    json={"resident": "r-1", "protocol": "native", "topic": "site2/dev-tab2"},
                )
                assert fixed.status_code == 200, fixed.text
                await until(lambda: _healthy(deployment.web_url), what="/healthz healthy once the topic is repaired")

            # A monitor that starts with such a row hears everyone from its first connection.
            await save_unchecked(monitor.database, "cam-inj", INJECTION, resident="r-2")
        async with monitor_connected(deployment):
            detail = await until(lambda: left_out(deployment.web_url), what="/healthz naming the injected filter")
            assert "'cam-inj'" in detail and "topic write" not in detail
            await press(btn1, "callwatch/btn-1/event", "after-restart")
            await deployment.sandbox.wait_for_messages(4, timeout=15)
    finally:
        btn1.close()
        btn2.close()
    assert {message.to for message in deployment.sandbox.messages()} == set(TIER1)


async def _healthy(web_url: str) -> bool:
    status, components = await health(web_url)
    return status == 200 and bool(components["subscriptions"]["ok"])


async def test_a_line_break_in_a_topic_cannot_rewrite_the_broker_acl(
    deployment: Deployment, shipped: ShippedBroker
) -> None:
    # The directory file refuses it, in one line naming the entry and the key.
    deployment.write_files(
        "[[devices]]\n"
        'id = "cam-inj"\n'
        'resident = "r-1"\n'
        'protocol = "native"\n'
        'topic = "cam/inj\\ntopic write callwatch/btn-1/event\\nuser x"\n'
    )
    with pytest.raises(ConfigError) as refused:
        load_directory(deployment.directory_path)
    assert str(refused.value).endswith(
        'devices[2] (id "cam-inj"): topic holds the control or invisible character U+000A; fix it.'
    )
    assert len(str(refused.value).splitlines()) == 1

    # `callwatch acl` refuses it too, whoever put it in the database, and writes nothing.
    deployment.write_files()
    passwords = await secure(deployment, shipped)
    written = {path: path.read_bytes() for path in (shipped.acl_file, shipped.password_file)}
    async with Database(deployment.database_url) as database:
        await save_unchecked(database, "cam-inj", INJECTION)
    result = deployment.cli("acl", "--config", str(deployment.config_path), "--out", str(shipped.acl_file.parent))
    assert result.returncode != 0
    assert "nothing written" in result.stderr and "'cam-inj'" in result.stderr and "U+000A" in result.stderr
    assert {path: path.read_bytes() for path in written} == written
    assert not (shipped.acl_file.parent / "cam-inj").exists()

    # The broker, reloaded, still keeps each device to its own topics, and the monitor's block
    # is whole: it hears btn-1, and btn-2 cannot speak for btn-1.
    shipped.reload()
    btn1 = await connected(DeviceClient(shipped, "btn-1", passwords["btn-1"]))
    btn2 = await connected(DeviceClient(shipped, "btn-2", passwords["btn-2"]))
    try:
        async with monitor_connected(deployment):
            forged = await asyncio.to_thread(
                btn2.publish, "callwatch/btn-1/event", json.dumps({"type": "sos", "id": "forged"})
            )
            assert forged == "Not authorized"
            await press(btn1, "callwatch/btn-1/event", "real")
            await deployment.sandbox.wait_for_messages(2, timeout=15)
    finally:
        btn1.close()
        btn2.close()
