"""The folders through which callwatch and Gammu's SMS daemon (gammu-smsd, files backend) talk.

callwatch never drives the modem itself: gammu-smsd does (PIN, network, resets, multipart
encoding), and the two share four folders named in gammu-smsd's own config file
(``man gammu-smsdrc``, ``man gammu-smsd-files``):

- outbox: callwatch writes one UTF-16 text file per message; writing it under a hidden name
  and renaming it into place is the hand-over, so a file is either wholly there or not at all.
  Its name carries the number, a priority letter and callwatch's notification id (``_cw42.``).
- sent / error: gammu-smsd moves each file there once the modem took it or refused it, so
  whether a message left, after any crash of either side, is read from where its file is.
- inbox: gammu-smsd stores each received message in its ``detail`` format (gammu-smsbackup:
  one file per message, every part of a long one in it).

Nothing here touches the event loop: the modem channel runs these calls in a thread.
"""

from __future__ import annotations

import configparser
import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.core.errors import ConfigError

log = logging.getLogger("callwatch.notify.modem")

#: where callwatch's id sits in a file name: ``OUTA20261207_191500_00_+8613900000001_cw42.txt``
_NOTIFICATION_ID = re.compile(r"_cw(\d+)\.txt")
#: what callwatch adds to a sent or refused file's name once its status is recorded
REPORTED = ".reported"
#: gammu-smsd writes an inbox file in one go: one still unreadable after this long never will be
UNREADABLE_AFTER_S = 60.0
_ENCODINGS = ("auto", "unicode")


@dataclass(frozen=True, slots=True)
class Spool:
    inbox: Path
    outbox: Path
    sent: Path
    error: Path

    @property
    def folders(self) -> tuple[Path, Path, Path, Path]:
        return self.inbox, self.outbox, self.sent, self.error


def read_smsdrc(path: Path) -> Spool:
    """The spool gammu-smsd's config file sets up; a ``ConfigError`` naming the file, the key and
    the fix when that config would not work with callwatch."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=("#", ";"))
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read gammu-smsd's config ({exc.strerror}); set [sms.modem] smsdrc to its path"
        ) from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: is not an INI file gammu-smsd could read: {exc.message}") from None
    smsd = next((parser[name] for name in parser.sections() if name.lower() == "smsd"), None)
    if smsd is None:
        raise ConfigError(f"{path}: has no [smsd] section; see docs/providers.md for a working gammu-smsdrc")

    def value(key: str, default: str = "") -> str:
        return smsd.get(key, default).strip().strip('"')

    if value("service", "null").lower() != "files":
        raise ConfigError(f"{path}: [smsd] service must be files for callwatch; set service = files")
    if value("inboxformat", "unicode").lower() != "detail":
        raise ConfigError(
            f"{path}: [smsd] inboxformat must be detail (a long reply stays one file); set inboxformat = detail"
        )
    if value("outboxformat", "detail").lower() == "detail" or value("transmitformat", "auto").lower() not in _ENCODINGS:
        raise ConfigError(
            f"{path}: [smsd] outboxformat must be unicode and transmitformat auto, or Chinese text is sent as "
            "GSM 7-bit; set outboxformat = unicode and transmitformat = auto"
        )
    folders = []
    for key in ("inboxpath", "outboxpath", "sentsmspath", "errorsmspath"):
        folder = value(key)
        if not folder.startswith("/"):
            raise ConfigError(f"{path}: [smsd] {key} must be an absolute folder; set {key} = /var/spool/gammu/…/")
        folders.append(Path(folder))
    if len(set(folders)) != len(folders):
        raise ConfigError(
            f"{path}: [smsd] inboxpath, outboxpath, sentsmspath and errorsmspath must be four different folders "
            "(callwatch reads a message's fate from the folder it is in)"
        )
    return Spool(*folders)


def outbox_name(number: str, notification_id: int, *, urgent: bool, at: datetime) -> str:
    """A message's file name; gammu-smsd sends in name order, so asks (``A``) go before the rest (``B``)."""
    return f"OUT{'A' if urgent else 'B'}{at:%Y%m%d_%H%M%S}_00_{number}_cw{notification_id}.txt"


def notification_id_of(name: str) -> int | None:
    found = _NOTIFICATION_ID.search(name)
    return int(found.group(1)) if found else None


def hand_over(spool: Spool, name: str, text: str) -> None:
    """Put a message in the outbox at once and whole: written and synced under a hidden name
    (gammu-smsd skips those), then renamed."""
    hidden = spool.outbox / f".{name}"
    with hidden.open("wb") as file:
        file.write(b"\xff\xfe" + text.encode("utf-16-le"))
        file.flush()
        os.fsync(file.fileno())
    os.replace(hidden, spool.outbox / name)


def find(spool: Spool, notification_id: int) -> tuple[Path, Path] | None:
    """(folder, file) where a message's file is now, if it was ever handed over."""
    for folder in (spool.outbox, spool.sent, spool.error):
        for path in _files(folder):
            if notification_id_of(path.name) == notification_id:
                return folder, path
    return None


def waiting_without_progress_s(spool: Spool, now: float) -> float:
    """How long messages have waited in the outbox while gammu-smsd moved none out (0 when none
    waits). Its moves show in the sent and error folders' modification times; a queue a storm
    left, going out one message every few seconds, is progress, not a stall."""
    waiting = [path.stat().st_mtime for path in _files(spool.outbox)]
    if not waiting:
        return 0.0
    moved = max(spool.sent.stat().st_mtime, spool.error.stat().st_mtime)
    return now - max(min(waiting), moved)


def unreported(folder: Path) -> list[Path]:
    """Files gammu-smsd moved into ``folder`` whose status callwatch has not recorded yet."""
    return [path for path in _files(folder) if not path.name.endswith(REPORTED) and notification_id_of(path.name)]


def mark_reported(path: Path) -> None:
    # (gone: another monitor on this machine recorded it first)
    with contextlib.suppress(FileNotFoundError):
        path.rename(path.with_name(path.name + REPORTED))


def forget_older_than(folder: Path, before: float) -> None:
    """Delete files last changed before ``before`` (a time stamp): they still hold a message's text."""
    for path in _files(folder):
        if path.stat().st_mtime < before:
            path.unlink(missing_ok=True)


def _files(folder: Path) -> Iterator[Path]:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return
    for name in names:
        if not name.startswith("."):
            yield folder / name


@dataclass(frozen=True, slots=True)
class Received:
    """One message gammu-smsd stored in the inbox: all its parts, joined."""

    path: Path
    number: str
    text: str
    #: a delivery report (``Status_Report``) rather than a message someone wrote
    status_report: bool


def received(spool: Spool) -> list[Received]:
    """The inbox's messages, oldest first (their names start with the time they came). A file that
    is still no readable message a minute after it was written never will be (an 8-bit message,
    a foreign file): it is deleted, so it is not read again every time."""
    found = []
    for path in _files(spool.inbox):
        message = _parse_backup(path)
        if message is not None:
            found.append(message)
        elif _age_s(path) > UNREADABLE_AFTER_S:
            log.warning("%s is not a message callwatch can read; deleted", path)
            path.unlink(missing_ok=True)
    return found


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _parse_backup(path: Path) -> Received | None:
    """One gammu-smsbackup file (``man gammu-smsbackup``); None while gammu-smsd is still writing it."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, comment_prefixes=("#", ";"))
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return None
    parts = [parser[name] for name in parser.sections() if name.lower().startswith("smsbackup")]
    # Gammu writes each part's MessageReference last: a part without one is still being written.
    if not parts or any("messagereference" not in part for part in parts):
        return None
    first = parts[0]
    number = _unicode(first.get("numberunicode", "")) or first.get("number", "").strip().strip('"')
    text = "".join(
        _unicode(part[key]) for part in parts for key in sorted(k for k in part if re.fullmatch(r"text\d\d", k))
    )
    return Received(path, number, text, first.get("pdu", "").strip().lower() == "status_report")


def _unicode(hex_text: str) -> str:
    """Gammu's hex-encoded UCS-2 (big-endian) as text."""
    try:
        return bytes.fromhex(hex_text.strip()).decode("utf-16-be", errors="replace")
    except ValueError:
        return ""
