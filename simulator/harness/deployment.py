"""A whole callwatch deployment for one test: config, directory, broker, sandbox, the monitor.

The monitor runs either in-process (``async with deployment.monitor()``) or as a real
`callwatch run` process that tests can SIGKILL (``deployment.process()``). Devices publish
with the real ``mosquitto_pub``; phones are the SMS sandbox's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiomqtt
import httpx

from monitor.config.settings import Settings, load_settings
from monitor.runtime.service import Monitor
from simulator.sandbox import SmsSandbox
from tests.support.broker import Broker

REPO = Path(__file__).resolve().parents[2]

RESIDENT_ZH = "r-1"
RESIDENT_EN = "r-2"
TIER1 = ("+8613900000001", "+8613900000002")  # v-1, v-2: the area team
TIER2 = "+8613900000009"  # v-9: the area leader
STAFF = "+8613900000100"  # duty desk
STRANGER = "+8613999999999"


def directory_text(*, tier1_timeout_s: int, tier2_timeout_s: int, repeat: int = 0, extra: str = "") -> str:
    return f"""
[[areas]]
id = "a-1"
name = "Tianxian 3"

[[residents]]
id = "{RESIDENT_ZH}"
name = "王秀英"
address = "12栋3单元201"
area = "a-1"
phone = "+8613800000001"
language = "zh"

[[residents]]
id = "{RESIDENT_EN}"
name = "Margaret Chen"
address = "8 Riverside Lane, Flat 4"
area = "a-1"
phone = "+8613800000002"
language = "en"

[[devices]]
id = "btn-1"
resident = "{RESIDENT_ZH}"
protocol = "native"

[[devices]]
id = "btn-2"
resident = "{RESIDENT_EN}"
protocol = "native"

[[volunteers]]
id = "v-1"
name = "Li Ming"
phone = "{TIER1[0]}"
areas = ["a-1"]
language = "zh"

[[volunteers]]
id = "v-2"
name = "Zhang Wei"
phone = "{TIER1[1]}"
areas = ["a-1"]
language = "en"

[[volunteers]]
id = "v-9"
name = "Chen Jing"
phone = "{TIER2}"
areas = ["a-1"]
role = "leader"

[[volunteers]]
id = "duty-1"
name = "Duty Desk"
phone = "{STAFF}"
role = "staff"

[[policies]]
id = "default"
tiers = [
  {{ notify = ["area"], ack_timeout_s = {tier1_timeout_s} }},
  {{ notify = ["role:leader"], ack_timeout_s = {tier2_timeout_s} }},
]
repeat = {repeat}
{extra}
"""


@dataclass
class Deployment:
    folder: Path
    broker: Broker
    sandbox: SmsSandbox
    database_url: str
    web_port: int
    tier1_timeout_s: int = 30
    tier2_timeout_s: int = 30
    repeat: int = 0
    client_id: str = field(default_factory=lambda: f"callwatch-test-{uuid.uuid4().hex[:8]}")

    @property
    def config_path(self) -> Path:
        return self.folder / "callwatch.toml"

    @property
    def directory_path(self) -> Path:
        return self.folder / "directory.toml"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def write_files(self, directory_extra: str = "") -> None:
        self.directory_path.write_text(
            directory_text(
                tier1_timeout_s=self.tier1_timeout_s,
                tier2_timeout_s=self.tier2_timeout_s,
                repeat=self.repeat,
                extra=directory_extra,
            ),
            encoding="utf-8",
        )
        self.config_path.write_text(
            f"""
[mqtt]
url = "{self.broker.url}"
client_id = "{self.client_id}"
reconnect_max_s = 1.0

[database]
url = "{self.database_url}"

[sms]
provider = "sandbox"
send_lease_s = 2

[sms.sandbox]
api_base_url = "{self.sandbox.base_url}"
account_sid = "{self.sandbox.account_sid}"
auth_token = "{self.sandbox.auth_token}"
from_number = "{self.sandbox.from_number}"

[web]
listen = "127.0.0.1:{self.web_port}"
public_url = "{self.web_url}"
api_token = "test-api-token-0123456789"

[directory]
file = "{self.directory_path}"

[service]
timezone = "Asia/Shanghai"
log_format = "text"
log_level = "INFO"
""",
            encoding="utf-8",
        )

    @property
    def settings(self) -> Settings:
        return load_settings(self.config_path, {})

    @asynccontextmanager
    async def monitor(self) -> AsyncIterator[Monitor]:
        async with Monitor(self.settings, config_path=self.config_path) as monitor:
            await self.wait_until_subscribed()
            yield monitor

    @asynccontextmanager
    async def process(self) -> AsyncIterator[MonitorProcess]:
        process = MonitorProcess(self)
        await process.start()
        try:
            yield process
        finally:
            await process.stop()

    async def wait_until_subscribed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bounded wait is the point
        """The monitor is connected and its subscriptions are in place (it answers /healthz ok)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    answer = await client.get(f"{self.web_url}/healthz", timeout=1)
                    if answer.status_code == 200 and _subscribed(answer.json()):
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError(f"the monitor did not become healthy on {self.web_url} within {timeout} s")

    async def publish(self, topic: str, payload: bytes | str, *, retain: bool = False, qos: int = 1) -> None:
        """Publish exactly as a device would, with the real mosquitto_pub."""
        data = payload.encode() if isinstance(payload, str) else payload
        command = ["mosquitto_pub", "-h", self.broker.host, "-p", str(self.broker.port), "-t", topic, "-q", str(qos)]
        if retain:
            command.append("-r")
        process = await asyncio.create_subprocess_exec(
            *command, "-s", stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, error = await process.communicate(data)
        if process.returncode != 0:
            raise RuntimeError(f"mosquitto_pub failed: {error.decode()}")

    async def press(
        self, device_id: str, event_type: str = "sos", event_id: str | None = None, **fields: object
    ) -> None:
        event: dict[str, object] = {"type": event_type, "id": event_id or uuid.uuid4().hex[:12], **fields}
        await self.publish(f"callwatch/{device_id}/event", json.dumps(event))

    def today(self) -> str:
        """Today's date where the service is (its time zone), as reports take periods."""
        return datetime.now(ZoneInfo(self.settings.service.timezone)).date().isoformat()

    def cli(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *arguments],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )

    def alerts(self) -> list[dict[str, object]]:
        """Alerts as `callwatch alerts --json` lists them (blocking: inside a running monitor use
        ``wait_for_alerts``, or the monitor's own loop stalls while the command waits on it)."""
        result = self.cli("alerts", "--config", str(self.config_path), "--json")
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    async def wait_for_alerts(
        self,
        predicate: Callable[[list[dict[str, object]]], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[dict[str, object]]:
        """Read alerts through `callwatch alerts --json` until ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            alerts = await asyncio.to_thread(self.alerts)
            if predicate(alerts):
                return alerts
            if time.monotonic() > deadline:
                raise TimeoutError(f"alerts never matched; last seen: {alerts}")
            await asyncio.sleep(0.1)


def _subscribed(health: object) -> bool:
    if not isinstance(health, dict):
        return False
    broker = health.get("components", {}).get("broker", {})
    return bool(broker.get("ok"))


class MonitorProcess:
    """`python -m monitor run` as a child process, killable at will."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = deployment.folder / "monitor.log"

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - only spawns the real process tests SIGKILL
                [sys.executable, "-m", "monitor", "run", "--config", str(self.deployment.config_path)],
                cwd=REPO,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        await self.deployment.wait_until_subscribed(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, 20)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            await self.terminate()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class FeedbackListener:
    """Collects what the monitor publishes on devices' feedback topics."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.received: list[tuple[str, dict[str, object]]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> FeedbackListener:
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            await client.subscribe("callwatch/+/feedback", qos=1)
            self._ready.set()
            async for message in client.messages:
                payload = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                async with self._changed:
                    self.received.append((message.topic.value, payload))
                    self._changed.notify_all()

    async def wait_for(
        self,
        state: str,
        *,
        topic: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> dict[str, object]:
        return await self.eventually(
            lambda payload, seen_topic: payload.get("state") == state and (topic is None or seen_topic == topic),
            timeout=timeout,
        )

    async def eventually(
        self,
        matches: Callable[[dict[str, object], str], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> dict[str, object]:
        """The first feedback ``matches(payload, topic)`` accepts, waiting for it if need be."""

        def found() -> dict[str, object] | None:
            return next((payload for seen_topic, payload in self.received if matches(payload, seen_topic)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result
