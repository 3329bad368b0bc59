"""Pointing a deployment at the shipped broker: TLS, the monitor's account, `callwatch acl`.

``secure`` does what an installer does on a real server: import the directory, let
`callwatch acl` write the broker's password file and ACL (and the devices' credentials),
give the monitor its account and the CA, and start the broker.
"""

from __future__ import annotations

from pathlib import Path

from monitor.core.csv_cells import read_csv
from monitor.directory.file import load_directory
from monitor.directory.sync import import_directory
from monitor.store.database import Database
from monitor.store.migrate import upgrade
from simulator.harness.deployment import Deployment, set_setting
from simulator.harness.shipped_broker import ShippedBroker

MONITOR_USER = "callwatch-monitor"
MONITOR_PASSWORD = "monitor-Pa55-word-for-tests"  # noqa: S105 - a throwaway credential of a private broker


async def secure(deployment: Deployment, broker: ShippedBroker) -> dict[str, str]:
    """Import the directory, write the broker's accounts with `callwatch acl`, start the broker;
    the devices' passwords by account."""
    set_setting(deployment, "mqtt", "url", f'"{broker.mqtts_url(MONITOR_USER, MONITOR_PASSWORD)}"')
    set_setting(deployment, "mqtt", "ca_file", f'"{broker.certificates.ca_file}"')
    async with Database(deployment.database_url) as database:
        await upgrade(database)
        await import_directory(database, load_directory(deployment.directory_path))
    result = deployment.cli("acl", "--config", str(deployment.config_path), "--out", str(broker.password_file.parent))
    if result.returncode != 0:
        raise RuntimeError(f"callwatch acl failed: {result.stderr}")
    broker.start()
    return read_credentials(broker.password_file.parent / "device-credentials.csv")


def read_credentials(path: Path) -> dict[str, str]:
    _, rows = read_csv(path.read_text())
    return {row["username"]: row["password"] for row in rows}
