"""Mosquitto running the shipped config/mosquitto.conf, with only paths and ports changed.

The broker the reliability tests restart, kill, and attack is configured exactly as the
README tells operators to run it: TLS, accounts and ACL from `callwatch acl`, persistence
and the queue limits the monitor's session needs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.broker import free_port, mosquitto_binary
from tests.system.reliability.certificates import Certificates, make_certificates

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "mosquitto.conf"
START_TIMEOUT_S = 10.0


def render(shipped: str, values: dict[str, str], *, extra: list[str]) -> str:
    """The shipped text with each ``key`` in ``values`` given its test value; every key must exist."""
    missing = set(values)
    lines = []
    for line in shipped.splitlines():
        key = line.split(" ", 1)[0]
        if key in values:
            lines.append(f"{key} {values[key]}")
            missing.discard(key)
        else:
            lines.append(line)
    if missing:
        raise AssertionError(f"config/mosquitto.conf no longer sets {sorted(missing)}")
    return "\n".join([*lines, *extra, ""])


@dataclass
class ShippedBroker:
    folder: Path
    host: str = "127.0.0.1"
    #: also listen without TLS here (the shipped config's commented-out plain listener)
    plain: bool = False

    def __post_init__(self) -> None:
        self.tls_port = free_port()
        self.plain_port = free_port() if self.plain else None
        self.certificates: Certificates = make_certificates(self.folder / "certs")
        self.password_file = self.folder / "callwatch" / "passwd"
        self.acl_file = self.folder / "callwatch" / "acl"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.folder / "mosquitto.log"

    def config_text(self) -> str:
        extra = [f"listener {self.plain_port} {self.host}"] if self.plain_port else []
        if os.geteuid() == 0:
            extra.append("user root")  # otherwise Mosquitto drops to 'mosquitto', who cannot read our folder
        return render(
            SHIPPED.read_text(),
            {
                "listener": f"{self.tls_port} {self.host}",
                "certfile": str(self.certificates.cert_file),
                "keyfile": str(self.certificates.key_file),
                "password_file": str(self.password_file),
                "acl_file": str(self.acl_file),
                "persistence_location": f"{self.folder}/",
                "log_dest": f"file {self.log_path}",
            },
            extra=extra,
        )

    def start(self) -> None:
        config = self.folder / "mosquitto.conf"
        config.write_text(self.config_text())
        self.process = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited at start: {error} {self.log()}")
            try:
                with socket.create_connection((self.host, self.tls_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.tls_port} within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop` does: Mosquitto saves its persistence file on the way down."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash; whatever arrived since the last autosave is gone."""
        self._end(signal.SIGKILL)

    def reload(self) -> None:
        """SIGHUP: read the password file and ACL again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def _end(self, signum: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)
            self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def mqtts_url(self, user: str, password: str) -> str:
        return f"mqtts://{user}:{password}@localhost:{self.tls_port}"
