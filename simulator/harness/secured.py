"""Pointing a test deployment at the shipped broker: TLS, the monitor's account, `callwatch acl`."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from monitor.directory.model import load_directory
from monitor.directory.sync import import_directory
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from tests.support.deployment import Deployment
from tests.system.reliability.mosquitto import ShippedBroker

MONITOR_USER = "callwatch-monitor"
MONITOR_PASSWORD = "monitor-Pa55-word-for-tests"  # a throwaway test credential


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


async def secure(deployment: Deployment, broker: ShippedBroker) -> dict[str, str]:
    """Import the directory, write the broker's accounts with `callwatch acl`, start the broker;
    the devices' passwords by account."""
    set_setting(deployment, "mqtt", "url", f'"{broker.mqtts_url(MONITOR_USER, MONITOR_PASSWORD)}"')
    set_setting(deployment, "mqtt", "ca_file", f'"{broker.certificates.ca_file}"')
    async with Database(deployment.database_url) as database:
        await upgrade(database)
        await import_directory(database, load_directory(deployment.directory_path))
    result = deployment.cli("acl", "--config", str(deployment.config_path), "--out", str(broker.password_file.parent))
    assert result.returncode == 0, result.stderr
    broker.start()
    return read_credentials(broker.password_file.parent / "device-credentials.csv")


def read_credentials(path: Path) -> dict[str, str]:
    with path.open(newline="") as handle:
        return {row["username"]: row["password"] for row in csv.DictReader(handle)}
