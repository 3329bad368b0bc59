"""A modem whose gammu-smsd does not send (stopped, no network, no credit) counts as down: once
messages have waited in the outbox longer than ``stalled_after_s`` with none sent, the health check
fails and new messages are refused as "not sent" (so they are retried, or go through the next
provider) instead of queueing behind it; once gammu-smsd sends again, the modem is up. A queue
that goes out one by one is not a stall."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from monitor.config.settings import ModemSettings
from monitor.notify.channel import FailureKind, Outgoing, SendFailure
from monitor.notify.sms.modem import ModemSms
from monitor.notify.texts import Message
from simulator.harness.dummy_modem import DummyModem
from tests.support.waiting import until

ASK = Message("ask", "紧急求助：王秀英（12栋3单元201）19:02求助。回复“收到 7”接手。")


async def test_a_message_waiting_too_long_makes_the_modem_down_until_gammu_smsd_sends_again(tmp_path: Path) -> None:
    with DummyModem(tmp_path / "modem") as modem:
        modem.stop()  # gammu-smsd down
        settings = ModemSettings(smsdrc=str(modem.smsdrc), stalled_after_s=30)
        async with ModemSms(settings) as channel:
            await channel.send(Outgoing("+8613900000001", ASK, 1))
            await channel.check()  # just handed over: nothing wrong yet
            [waiting] = modem.waiting()
            # 31 s on, with nothing moved to the sent or error folder meanwhile
            long_ago = time.time() - 31
            for path in (modem.spool / "outbox" / waiting, modem.spool / "sent", modem.spool / "error"):
                os.utime(path, (long_ago, long_ago))

            with pytest.raises(SendFailure) as checked:
                await channel.check()
            with pytest.raises(SendFailure) as refused:
                await channel.send(Outgoing("+8613900000002", ASK, 2))
            assert modem.waiting() == [waiting], "nothing more queued behind a modem that does not send"

            modem.start()
            await until(lambda: not modem.waiting(), what="gammu-smsd sends what waited")
            await channel.check()
            await channel.send(Outgoing("+8613900000002", ASK, 2))
    for failure in (checked.value, refused.value):
        assert (failure.kind, failure.code) == (FailureKind.TEMPORARY, "stalled")
        assert "is gammu-smsd running" in failure.message


async def test_a_long_queue_going_out_is_not_a_stall(tmp_path: Path) -> None:
    with DummyModem(tmp_path / "modem") as modem:
        modem.stop()
        async with ModemSms(ModemSettings(smsdrc=str(modem.smsdrc), stalled_after_s=30)) as channel:
            await channel.send(Outgoing("+8613900000001", ASK, 1))
            await channel.send(Outgoing("+8613900000003", ASK, 3))
            long_ago = time.time() - 31
            for path in (*(modem.spool / "outbox" / name for name in modem.waiting()), modem.spool / "sent"):
                os.utime(path, (long_ago, long_ago))
            os.utime(modem.spool / "error", (long_ago, long_ago))
            # both waited 31 s, but gammu-smsd has just moved one of them out, as it does once sent
            first = modem.waiting()[0]
            (modem.spool / "outbox" / first).rename(modem.spool / "sent" / first)
            await channel.check()
            await channel.send(Outgoing("+8613900000002", ASK, 2))
    assert len(modem.waiting()) == 2
