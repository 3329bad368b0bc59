"""A whole callwatch deployment in one folder: config, directory, broker, SMS sandbox, the monitor.

The directory is a small neighbourhood (``simulator.harness.neighbourhood``: two residents, an
area team of two volunteers, an area leader, a duty desk) with a two-tier policy; the tiers'
timeouts are the caller's. The monitor runs either in-process (``async with
deployment.monitor()``) or as a real `callwatch run` process that can be SIGKILLed
(``deployment.process()``, or ``deployment.monitor_process()`` for several on one config).
Devices publish with the real ``mosquitto_pub``; phones are the SMS sandbox's.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.config.settings import Settings, load_settings
from monitor.notify.texts import SMS_TEMPLATES
from monitor.runtime.service import Monitor
from monitor.web.hooks.aliyun_hooks import SMS_REPORT_PATH, SMS_UP_PATH
from simulator.directory_entries import TomlValue, area_then_leaders, directory_file, entry, toml_value
from simulator.harness import neighbourhood as people
from simulator.harness.dummy_modem import DummyModem
from simulator.harness.monitor_process import SOURCE_ROOT, MonitorProcess, wait_until_healthy
from simulator.harness.mosquitto import Mosquitto
from simulator.sandbox import SmsSandbox


def directory_text(
    *,
    tier1_timeout_s: int,
    tier2_timeout_s: int,
    repeat: int = 0,
    extra: str = "",
    tier_keys: Sequence[Mapping[str, TomlValue]] = (),
) -> str:
    """The neighbourhood's directory file, with ``extra`` entries (TOML) at the end; ``tier_keys``:
    more keys of the policy's tiers (``channels``, ``call_after_s``)."""
    return directory_file(
        entry("areas", **people.TIANXIAN),
        entry("residents", **people.WANG_XIUYING),
        entry("residents", **people.MARGARET_CHEN, phone="+8613800000002"),
        entry("devices", id="btn-1", resident=people.RESIDENT_ZH, protocol="native"),
        entry("devices", id="btn-2", resident=people.RESIDENT_EN, protocol="native"),
        entry("volunteers", **people.LI_MING),
        entry("volunteers", **people.ZHANG_WEI),
        entry("volunteers", **people.CHEN_JING),
        entry("volunteers", **people.DUTY_DESK),
        area_then_leaders(tier1_timeout_s, tier2_timeout_s, repeat=repeat, tier_keys=tier_keys),
        extra,
    )


#: The test deployments' Alibaba Cloud sign name and SmsUp push token
ALIYUN_SIGN_NAME = "呼援守护"
ALIYUN_PUSH_TOKEN = "sandbox-push-token-0123456789"  # noqa: S105 - a test deployment's, not a secret


def aliyun_template_code(purpose: str) -> str:
    """The template code a test deployment gives a message: its place in the list of messages."""
    return f"SMS_{100001 + list(SMS_TEMPLATES).index(purpose)}"


def aliyun_section(sandbox: SmsSandbox, web_url: str) -> str:
    """``[sms.aliyun]`` at the sandbox, a template for every message; the sandbox is told to push
    replies and delivery reports to the monitor at ``web_url``."""
    sandbox.set_aliyun_push_urls(
        web_url + SMS_UP_PATH + ALIYUN_PUSH_TOKEN, web_url + SMS_REPORT_PATH + ALIYUN_PUSH_TOKEN
    )
    templates = "".join(
        f"{purpose} = {toml_value({'code': aliyun_template_code(purpose), 'params': list(params)})}\n"
        for purpose, params in SMS_TEMPLATES.items()
    )
    return f"""[sms.aliyun]
sign_name = "{ALIYUN_SIGN_NAME}"
access_key_id = "{sandbox.aliyun_access_key_id}"
access_key_secret = "{sandbox.aliyun_access_key_secret}"
endpoint = "{sandbox.base_url}"
push_token = "{ALIYUN_PUSH_TOKEN}"

[sms.aliyun.templates]
{templates}"""


def modem_section(modem: DummyModem) -> str:
    """``[sms.modem]`` on gammu-smsd with Gammu's dummy phone, its spool read five times a second."""
    return f"""[sms.modem]
smsdrc = "{modem.smsdrc}"
poll_s = 0.2
"""


@dataclass
class Deployment:
    folder: Path
    broker: Mosquitto
    sandbox: SmsSandbox
    database_url: str
    web_port: int
    tier1_timeout_s: int = 30
    tier2_timeout_s: int = 30
    repeat: int = 0
    #: more keys of the policy's tiers, first tier first (``{"channels": ["sms", "voice"]}``)
    tier_keys: Sequence[Mapping[str, TomlValue]] = ()
    #: ``[voice]`` settings; calls are off without them (``{"enabled": True, "ring_timeout_s": 5}``)
    voice: Mapping[str, TomlValue] | None = None
    #: "sandbox" (Twilio's API), "aliyun" (Alibaba Cloud's, with a template for every message) or
    #: "modem" (gammu-smsd on Gammu's dummy phone: ``modem`` must be given)
    sms_provider: str = "sandbox"
    modem: DummyModem | None = None
    #: several providers in failover order (``["aliyun", "sandbox"]``), in place of ``sms_provider``
    sms_providers: Sequence[str] = ()
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
                tier_keys=self.tier_keys,
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
{self._providers_line()}
send_lease_s = 2

[sms.sandbox]
api_base_url = "{self.sandbox.base_url}"
account_sid = "{self.sandbox.account_sid}"
auth_token = "{self.sandbox.auth_token}"
from_number = "{self.sandbox.from_number}"

{self._aliyun_section()}
{self._modem_section()}
{self._voice_section()}
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

    def _providers_line(self) -> str:
        if self.sms_providers:
            return f"providers = {toml_value(list(self.sms_providers))}"
        return f'provider = "{self.sms_provider}"'

    def _aliyun_section(self) -> str:
        used = self.sms_providers or [self.sms_provider]
        return aliyun_section(self.sandbox, self.web_url) if "aliyun" in used else ""

    def _modem_section(self) -> str:
        if "modem" not in (self.sms_providers or [self.sms_provider]):
            return ""
        if self.modem is None:
            raise ValueError('sms_provider = "modem" needs the deployment\'s modem (a DummyModem)')
        return modem_section(self.modem)

    def _voice_section(self) -> str:
        if self.voice is None:
            return ""
        return "[voice]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in self.voice.items())

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
        """`callwatch run` on this deployment's config, healthy; stopped (SIGTERM) on the way out."""
        async with self.monitor_process() as process:
            yield process

    def monitor_process(
        self,
        *,
        name: str = "monitor",
        web_port: int | None = None,
        overrides: Mapping[str, str] | None = None,
        healthy_within_s: float = 30.0,
    ) -> MonitorProcess:
        """A `callwatch run` process on this config, not started, its log ``<name>.log`` in the folder.

        ``overrides`` are ``CALLWATCH_*`` settings of this process alone; with ``web_port`` it
        serves there (several monitors on one config, as `config/callwatch@.service` runs them)."""
        port = self.web_port if web_port is None else web_port
        environment = dict(overrides or {})
        if web_port is not None:
            environment["CALLWATCH_WEB__LISTEN"] = f"127.0.0.1:{web_port}"
        return MonitorProcess(
            self.config_path,
            f"http://127.0.0.1:{port}",
            log_path=self.folder / f"{name}.log",
            env=environment,
            healthy_within_s=healthy_within_s,
        )

    async def wait_until_subscribed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bounded wait is the point
        """The monitor is connected and its subscriptions are in place (it answers /healthz ok)."""
        await wait_until_healthy(self.web_url, within_s=timeout)

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

    def cli(self, *arguments: str, typed: str = "") -> subprocess.CompletedProcess[str]:
        """`callwatch ARGUMENTS...` (this interpreter's), as an operator would run it, with ``typed``
        as what they type at its questions; not checked."""
        return subprocess.run(  # noqa: S603 - this interpreter, arguments of our own
            [sys.executable, "-m", "monitor", *arguments],
            input=typed,
            capture_output=True,
            text=True,
            cwd=SOURCE_ROOT,
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


def set_setting(deployment: Deployment, section: str, key: str, value: str) -> None:
    """Set ``[section] key = value`` (a TOML literal) in the deployment's config file."""
    text = deployment.config_path.read_text()
    header = f"[{section}]\n"
    pattern = re.compile(rf"(?m)^{re.escape(key)} = .*$")
    start = text.index(header) + len(header) if header in text else None
    if start is None:
        text += f"\n{header}{key} = {value}\n"
    else:
        end = text.find("\n[", start)
        end = len(text) if end == -1 else end
        body = text[start:end]
        body = pattern.sub(f"{key} = {value}", body) if pattern.search(body) else f"{key} = {value}\n{body}"
        text = text[:start] + body + text[end:]
    deployment.config_path.write_text(text)
