"""systemd's notify protocol (sd_notify): READY=1, WATCHDOG=1, STOPPING=1 on $NOTIFY_SOCKET.

With ``Type=notify`` systemd knows when the monitor is up, and with ``WatchdogSec=`` it
restarts a monitor that stops petting it (see config/callwatch.service). Without
$NOTIFY_SOCKET (not under systemd) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("callwatch.systemd")


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
        # "@name" is an abstract socket: its real name starts with a NUL byte.
        self.address = "\0" + address[1:] if address.startswith("@") else address

    def ready(self) -> None:
        self._send("READY=1")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def _send(self, state: str) -> None:
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as connection:
                connection.sendto(state.encode(), self.address)
        except OSError as exc:
            log.warning("could not tell systemd %s: %s", state, exc)
