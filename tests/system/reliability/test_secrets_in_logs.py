"""No secret is ever written to a log: a whole shift's flow through a real `callwatch run`
logging at DEBUG, its whole output searched.

The flow touches every secret the monitor holds: the broker password (mqtts:// with TLS),
devices' passwords, the SMS provider's auth token, the API token, a console user's
password (right and wrong), a session cookie, a personal API token.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from monitor.config.settings import load_settings
from monitor.core.errors import ConfigError
from monitor.store.database import Database
from monitor.users.accounts import NewUser, create_user
from monitor.users.identity import Role
from monitor.users.passwords import Passwords
from simulator.harness.deployment import set_setting
from simulator.harness.secured import MONITOR_PASSWORD, secure
from simulator.harness.shipped_broker import ShippedBroker
from tests.support.deployment import TIER1, Deployment
from tests.system.reliability.devices import DeviceClient, connected
from tests.web.support import PASSWORD, ConsoleClient

API_TOKEN = "test-api-token-0123456789"  # simulator/harness/deployment.py's [web] api_token
WRONG_PASSWORD = "not-the-password-42"


@pytest.fixture
def database_url(sqlite_only: str) -> str:
    return sqlite_only


async def add_duty_user(deployment: Deployment) -> None:
    async with Database(deployment.database_url) as database, database.write() as session:
        new = NewUser(name="duty", display_name="Duty", role=Role.DUTY, language="en", password=PASSWORD)
        await create_user(session, Passwords(), new, datetime.now(UTC), actor="test")


async def test_a_whole_flow_writes_no_secret_to_the_log(deployment: Deployment, shipped: ShippedBroker) -> None:
    device_passwords = await secure(deployment, shipped)
    set_setting(deployment, "service", "log_level", '"DEBUG"')
    set_setting(deployment, "service", "log_format", '"json"')
    await add_duty_user(deployment)
    secrets = {
        "broker password": MONITOR_PASSWORD,
        "SMS auth token": deployment.sandbox.auth_token,
        "API token": API_TOKEN,
        "console password": PASSWORD,
        "mistyped console password": WRONG_PASSWORD,
        **{f"{device}'s broker password": password for device, password in device_passwords.items()},
    }
    async with deployment.process() as monitor, ConsoleClient(deployment.web_url) as console:
        assert (await console.sign_in("duty", WRONG_PASSWORD)).status_code != 303
        assert (await console.sign_in("duty")).status_code == 303
        secrets["session cookie"] = console.http.cookies["callwatch_session"]
        secrets["known-browser cookie"] = console.http.cookies["callwatch_browser"]
        account = await console.post("/account/tokens", {"label": "script", "token_current": PASSWORD})
        token = re.search(r'id="new-token">([^<]+)<', account.text)
        assert token is not None
        secrets["personal API token"] = token.group(1)

        button = await connected(DeviceClient(shipped, "btn-1", device_passwords["btn-1"]))
        await asyncio.to_thread(button.publish, "callwatch/btn-1/event", json.dumps({"type": "sos", "id": "e1"}))
        button.close()
        await deployment.sandbox.wait_for_messages(2)
        assert await deployment.sandbox.phone(TIER1[0]).reply("ACK") == 200
        await deployment.sandbox.wait_for_messages(1, to=TIER1[1], body_contains="Li Ming")
        async with httpx.AsyncClient() as client:
            for bearer in (API_TOKEN, secrets["personal API token"], "wrong-" + API_TOKEN):
                await client.get(f"{deployment.web_url}/api/alerts", headers={"Authorization": f"Bearer {bearer}"})
        await console.http.get("/")
        assert await monitor.terminate() == 0
    text = monitor.log()
    assert "reply" in text and "connected to the MQTT broker" in text  # the flow was logged
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert leaked == [], f"written to the log: {leaked}"


def test_config_errors_name_a_secret_but_never_repeat_it(tmp_path: Path) -> None:
    config = tmp_path / "callwatch.toml"
    config.write_text(
        '[mqtt]\nurl = "mqtts://monitor:S3cret-pass@host:notaport"\n'
        '[web]\napi_token = "short-secret"\n'
        '[sms]\nprovider = "twilio"\n[sms.twilio]\naccount_sid = "nope"\nauth_token = ""\nfrom_number = "+1555"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_settings(config, {})
    message = str(error.value)
    assert "[web] api_token" in message and "[mqtt] url" in message
    assert "short-secret" not in message and "S3cret-pass" not in message
