"""Mosquitto on the shipped config/mosquitto.conf, with only paths and ports changed.

The broker the reliability tests and the fault campaigns restart, kill and attack is
configured exactly as the README tells operators to run it: TLS, accounts and ACL from
`callwatch acl`, persistence and the queue limits the monitor's session needs. The process
itself is ``mosquitto.Mosquitto``'s; this module only writes its config (and a throwaway CA).
"""

from __future__ import annotations

import os
from pathlib import Path

from simulator.harness.certificates import Certificates, make_certificates
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.ports import LOCALHOST, free_port

#: in a checkout of callwatch (the config folder is not part of the installed package)
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "mosquitto.conf"


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
        raise ValueError(f"{SHIPPED_CONFIG.name} no longer sets {sorted(missing)}")
    return "\n".join([*lines, *extra, ""])


class ShippedBroker(Mosquitto):
    """The shipped config in ``folder``: TLS on ``tls_port``, and with ``plain`` also its
    commented-out plain listener on ``plain_port``. Not started: its accounts come first
    (``secured.secure`` writes them with `callwatch acl`, then starts it)."""

    def __init__(
        self, folder: Path, *, host: str = LOCALHOST, plain: bool = False, shipped: Path = SHIPPED_CONFIG
    ) -> None:
        super().__init__(folder, host=host)
        self.shipped = shipped
        self.plain_port = free_port(host) if plain else None
        self.certificates: Certificates = make_certificates(folder / "certs")
        self.password_file = folder / "callwatch" / "passwd"
        self.acl_file = folder / "callwatch" / "acl"

    @property
    def tls_port(self) -> int:
        return self.port

    @property
    def url(self) -> str:
        return f"mqtts://localhost:{self.tls_port}"

    def config_text(self) -> str:
        extra = [f"listener {self.plain_port} {self.host}"] if self.plain_port else []
        if os.geteuid() == 0:
            extra.append("user root")  # otherwise Mosquitto drops to 'mosquitto', who cannot read our folder
        return render(
            self.shipped.read_text(),
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

    def mqtts_url(self, user: str, password: str) -> str:
        return f"mqtts://{user}:{password}@localhost:{self.tls_port}"
