"""Writing the broker's password file, ACL and new device credentials (``callwatch acl``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from devices.base import DeviceProfile
from monitor.broker.acl import (
    Account,
    AclError,
    accounts,
    acl_text,
    credentials,
    parse_password_file,
    password_file_text,
)
from monitor.config.settings import MqttSettings
from monitor.core.csv_cells import write_csv
from monitor.core.errors import UserError
from monitor.store.database import Database
from monitor.store.models import Device

PASSWORD_FILE = "passwd"  # noqa: S105 - a file name
ACL_FILE = "acl"
CREDENTIALS_FILE = "device-credentials.csv"


@dataclass(frozen=True, slots=True)
class Written:
    accounts: list[Account]
    new_accounts: list[str]
    removed: tuple[str, ...]
    credentials_file: Path | None


async def device_profiles(database: Database) -> list[tuple[str, DeviceProfile]]:
    async with database.read() as session:
        rows = (
            await session.execute(
                select(Device.protocol, Device.id, Device.kind, Device.topic, Device.serial)
                .where(Device.active.is_(True))  # a retired device's account is dropped
                .order_by(Device.id)
            )
        ).all()
    return [
        (protocol, DeviceProfile(device_id=device_id, kind=kind, topic=topic, serial=serial))
        for protocol, device_id, kind, topic, serial in rows
    ]


async def write_broker_files(database: Database, mqtt: MqttSettings, out: Path) -> Written:
    if not mqtt.username or not mqtt.password:
        raise UserError(
            "[mqtt] url: the monitor needs its own broker account for an ACL; "
            "give it as mqtts://user:password@host:8883 (or CALLWATCH_MQTT__URL)."
        )
    profiles = await device_profiles(database)
    if not profiles:
        raise UserError("the database has no devices yet; run `callwatch import DIRECTORY --config FILE` first.")
    try:
        wanted = accounts(profiles, mqtt.username)
        return write_files(wanted, (mqtt.username, mqtt.password), out)
    except AclError as exc:
        raise UserError(f"nothing written: {exc}") from None


def write_files(wanted: list[Account], monitor: tuple[str, str], out: Path) -> Written:
    """Both files, or (``AclError``) neither: every line is made before the first is written."""
    out.mkdir(parents=True, exist_ok=True)
    password_path = out / PASSWORD_FILE
    existing = parse_password_file(password_path.read_text()) if password_path.exists() else {}
    made = credentials(wanted, existing, monitor)
    passwords = password_file_text(made.hashes)
    acl = acl_text(wanted, datetime.now(UTC))
    _write_private(password_path, passwords)
    (out / ACL_FILE).write_text(acl)
    credentials_path = None
    if made.new_passwords:
        credentials_path = out / CREDENTIALS_FILE
        _write_private(credentials_path, _credentials_csv(wanted, made.new_passwords))
    return Written(wanted, sorted(made.new_passwords), made.removed, credentials_path)


def _credentials_csv(all_accounts: list[Account], new_passwords: dict[str, str]) -> str:
    return write_csv(
        ["username", "password", "may_publish", "may_read"],
        (
            [account.username, new_passwords[account.username], " ".join(account.publish), " ".join(account.subscribe)]
            for account in all_accounts
            if account.username in new_passwords
        ),
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (Mosquitto runs as that owner or root)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
