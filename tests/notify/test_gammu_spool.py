"""Reading gammu-smsd's inbox: a message is taken whole, with every part of a long one; a file
still being written is left for the next read; a file that never becomes a message is deleted."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from monitor.notify.sms.gammu_spool import UNREADABLE_AFTER_S, Spool, received
from simulator.harness.dummy_modem import sms_backup

AT = datetime(2026, 12, 7, 11, 2, tzinfo=UTC)


def spool_in(folder: Path) -> Spool:
    spool = Spool(*(folder / name for name in ("inbox", "outbox", "sent", "error")))
    for path in spool.folders:
        path.mkdir()
    return spool


def test_a_two_part_reply_is_one_message_and_a_half_written_one_waits(tmp_path: Path) -> None:
    spool = spool_in(tmp_path)
    first, second = sms_backup("+8613900000001", "收到 7，", AT), sms_backup("+8613900000001", "马上到", AT)
    two_parts = first + second.replace("[SMSBackup000]", "[SMSBackup001]")
    (spool.inbox / "IN20261207_110200_00_+8613900000001_00.txt").write_text(two_parts, encoding="utf-8")
    (spool.inbox / "IN20261207_110201_00_+8613900000002_00.txt").write_text(
        sms_backup("+8613900000002", "收到 8", AT).split("MessageReference")[0], encoding="utf-8"
    )
    [message] = received(spool)
    assert (message.number, message.text, message.status_report) == ("+8613900000001", "收到 7，马上到", False)
    assert len(list(spool.inbox.iterdir())) == 2, "the half-written file is left for the next read"


def test_a_file_that_never_becomes_a_message_is_deleted(tmp_path: Path) -> None:
    spool = spool_in(tmp_path)
    junk = spool.inbox / "IN20261207_110200_00_+8613900000001_00.bin"
    junk.write_bytes(b"\x00\x01binary")
    assert received(spool) == [] and junk.exists(), "not yet: it may still be being written"
    long_ago = time.time() - UNREADABLE_AFTER_S - 1
    os.utime(junk, (long_ago, long_ago))
    assert received(spool) == [] and not junk.exists()
