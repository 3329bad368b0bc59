"""A GSM modem without hardware: the real gammu-smsd on Gammu's dummy phone driver.

Gammu's ``model = dummy`` performs every phone operation on files in a folder: a message put
in its ``sms/1`` folder is a message the SIM received, which gammu-smsd reads, stores in the
spool's inbox and deletes from the phone, exactly as from a modem. Messages gammu-smsd sends
are encoded by Gammu (UCS-2 parts for Chinese) and end in the spool's sent folder. So
callwatch's modem provider runs its whole real path, Gammu's included, in tests and the demo.

    with DummyModem(folder) as modem: ...   # modem.smsdrc is what [sms.modem] smsdrc names
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
#: the dummy phone's inbox folder (Gammu's SMS folder 1)
PHONE_INBOX = "sms/1"


def gammu_smsd_binary() -> str:
    found = shutil.which("gammu-smsd")
    if found is None:
        raise RuntimeError("gammu-smsd is not installed: `make test` installs it (apt-get install gammu-smsd)")
    return found


def smsdrc_text(phone: Path, spool: Path, log: Path) -> str:
    """gammu-smsd's config for the dummy phone in ``phone``, its spool in ``spool``: polling every
    second (a real modem's config is in docs/providers.md)."""
    return f"""[gammu]
model = dummy
device = {phone}
connection = none

[smsd]
service = files
logfile = {log}
debuglevel = 1
inboxpath = {spool}/inbox/
outboxpath = {spool}/outbox/
sentsmspath = {spool}/sent/
errorsmspath = {spool}/error/
inboxformat = detail
outboxformat = unicode
transmitformat = auto
commtimeout = 1
loopsleep = 1
receivefrequency = 1
statusfrequency = 0
checkbattery = 0
"""


@dataclass(frozen=True, slots=True)
class SentSms:
    """A message gammu-smsd sent (its file in the sent folder)."""

    to: str
    text: str
    name: str


class DummyModem:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.phone = folder / "phone"
        self.spool = folder / "spool"
        self.smsdrc = folder / "gammu-smsdrc"
        self.log_path = folder / "gammu-smsd.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._received = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        for folder in (self.phone, *(self.spool / name for name in ("inbox", "outbox", "sent", "error"))):
            folder.mkdir(parents=True, exist_ok=True)
        self.smsdrc.write_text(smsdrc_text(self.phone, self.spool, self.log_path), encoding="utf-8")
        # Its own session: a Ctrl-C reaches whoever started it, who stops it last.
        self._process = subprocess.Popen(  # noqa: S603 - Debian's gammu-smsd, a config of ours
            [gammu_smsd_binary(), "-c", str(self.smsdrc)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Starting phone communication" not in self._log():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gammu-smsd did not start; its log: {self.log_path}\n{self._log()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def _log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def receive(self, sender: str, text: str, at: datetime | None = None) -> None:
        """The SIM receives ``text`` from ``sender``: one message in the dummy phone's inbox, put
        there whole (written aside, then renamed)."""
        self._received += 1
        aside = self.phone / f".incoming-{self._received}"
        aside.write_text(sms_backup(sender, text, at or datetime.now(UTC)), encoding="utf-8")
        location = 1
        while (self.phone / PHONE_INBOX / str(location)).exists():
            location += 1
        os.replace(aside, self.phone / PHONE_INBOX / str(location))

    def stored(self, name: str, sender: str, text: str, at: datetime) -> None:
        """A message as gammu-smsd stores a received one in the spool's inbox, under ``name``."""
        aside = self.spool / f".{name}"
        aside.write_text(sms_backup(sender, text, at), encoding="utf-8")
        os.replace(aside, self.spool / "inbox" / name)

    def sent(self) -> list[SentSms]:
        """What gammu-smsd has sent, oldest first by name."""
        return [_sent(path) for path in sorted((self.spool / "sent").iterdir()) if not path.name.startswith(".")]

    def waiting(self) -> list[str]:
        """Names of the files still in the outbox."""
        return sorted(name for name in os.listdir(self.spool / "outbox") if not name.startswith("."))

    def transmitted_parts(self, to: str) -> list[int]:
        """For each message sent to ``to``, how many SMS parts Gammu sent it as (from its log)."""
        counts = []
        for line in self._log().splitlines():
            if "Transmitted" in line and f"to {to}," in line and "(total: " in line:
                counts.append(int(line.split("(total: ")[1].split(")")[0]))
        return counts


def sms_backup(sender: str, text: str, at: datetime) -> str:
    """A received message in Gammu's SMS backup format (``man gammu-smsbackup``), as the dummy
    phone keeps messages and gammu-smsd's ``detail`` inbox format stores them."""
    return (
        "[SMSBackup000]\n"
        f'Number = "{sender}"\n'
        f"NumberUnicode = {sender.encode('utf-16-be').hex().upper()}\n"
        f"Text00 = {text.encode('utf-16-be').hex().upper()}\n"
        "Coding = Unicode_No_Compression\n"
        "PDU = Deliver\n"
        "State = UnRead\n"
        "Folder = 1\n"
        f"DateTime = {at.astimezone(UTC):%Y%m%dT%H%M%S}Z\n"
        "Class = -1\n"
        "MessageReference = 0\n"
    )


def _sent(path: Path) -> SentSms:
    # OUT<priority><date>_<time>_<serial>_<number>_<note>.txt[.reported]
    number = path.name.split("_")[3]
    raw = path.read_bytes()
    text = raw[2:].decode("utf-16-le") if raw[:2] == b"\xff\xfe" else raw.decode("utf-8")
    return SentSms(number, text, path.name)
