"""SMS through a GSM modem: the real gammu-smsd on Gammu's dummy phone driver (every phone operation
on files in a folder), callwatch talking to it through gammu-smsd's files spool; real Mosquitto,
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.store.models import InboundSms, Notification
from simulator.harness.dummy_modem import DummyModem
from tests.support.deployment import TIER1, TIER2, Deployment
from tests.support.waiting import until

LI_MING, ZHANG_WEI = TIER1


@pytest.fixture
def modem(tmp_path: Path) -> Iterator[DummyModem]:
    with DummyModem(tmp_path / "modem") as running:
        yield running


def on_modem(deployment: Deployment, modem: DummyModem) -> None:
    deployment.sms_provider = "modem"
    deployment.modem = modem
    deployment.write_files()


async def test_an_sos_goes_out_through_the_modem_and_a_reply_in_its_inbox_takes_it(
    deployment: Deployment, modem: DummyModem
) -> None:
    on_modem(deployment, modem)
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await until(lambda: len(modem.sent()) == 2, what="both asks sent by gammu-smsd", within_s=15)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        # Li Ming answers in Chinese, by SMS to the SIM
        modem.receive(LI_MING, f"收到 {alert['id']}")
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "acknowledged", timeout=15)
        await until(lambda: any(sms.to == LI_MING for sms in modem.sent()[2:]), what="Li Ming's confirmation")
        await until(lambda: not list((modem.spool / "inbox").iterdir()), what="the reply taken from the inbox")
        async with monitor.database.read() as session:
            reply = await session.scalar(select(InboundSms))
            asks = (await session.scalars(select(Notification).where(Notification.purpose == "alert"))).all()
    first_two = modem.sent()[:2]
    assert {sms.to for sms in first_two} == set(TIER1)
    [chinese] = [sms for sms in first_two if sms.to == LI_MING]
    assert "王秀英" in chinese.text and f"收到 {alert['id']}" in chinese.text
    # a long Chinese ask goes as concatenated UCS-2 parts, as Gammu splits it
    assert len(chinese.text) > 70 and modem.transmitted_parts(LI_MING)[0] >= 2
    assert reply is not None and reply.provider_id.startswith("modem-in:") and reply.volunteer_id == "v-1"
    assert reply.from_phone == LI_MING and reply.body == f"收到 {alert['id']}"
    # what the modem did with each ask is read from gammu-smsd's sent folder
    assert {(ask.phone, ask.status) for ask in asks} == {(LI_MING, "sent"), (ZHANG_WEI, "sent")}
    assert all(ask.provider_id == f"modem:{ask.id}" and ask.segments and ask.segments >= 1 for ask in asks)


async def test_a_reply_fetched_twice_changes_nothing_the_second_time(deployment: Deployment, modem: DummyModem) -> None:
    on_modem(deployment, modem)
    inbox = modem.spool / "inbox"
    async with deployment.monitor() as monitor:
        await deployment.press("btn-1")
        await until(lambda: len(modem.sent()) == 2, what="both asks sent", within_s=15)
        [alert] = await deployment.wait_for_alerts(lambda alerts: len(alerts) == 1)
        name = f"IN{datetime.now(UTC):%Y%m%d_%H%M%S}_00_{LI_MING}_00.txt"
        modem.stored(name, LI_MING, f"收到 {alert['id']}", datetime.now(UTC))
        await deployment.wait_for_alerts(lambda alerts: alerts[0]["state"] == "acknowledged", timeout=15)
        await until(lambda: not list(inbox.iterdir()), what="the reply taken from the inbox")
        await until(lambda: len(modem.sent()) == 4, what="the confirmation and the taken notice")
        async with monitor.database.read() as session:
            before = await session.scalar(select(func.count()).select_from(Notification))
        # As after a crash between recording the reply and deleting its file: the same file again.
        modem.stored(name, LI_MING, f"收到 {alert['id']}", datetime.now(UTC))
        await until(lambda: not list(inbox.iterdir()), what="the reply taken from the inbox again")
        async with monitor.database.read() as session:
            after = await session.scalar(select(func.count()).select_from(Notification))
            replies = await session.scalar(select(func.count()).select_from(InboundSms))
    assert after == before and replies == 1
    assert len(modem.sent()) == 4
    [alert] = deployment.alerts()
    assert (alert["state"], alert["acknowledged_by"]) == ("acknowledged", "v-1")


async def test_an_ask_the_modem_refuses_moves_the_tier_on(deployment: Deployment, modem: DummyModem) -> None:
    deployment.tier1_timeout_s = 60
    on_modem(deployment, modem)
    modem.stop()  # gammu-smsd down: the asks wait in the outbox, and the test plays its part
    async with deployment.monitor():
        await deployment.press("btn-1")
        await until(lambda: len(modem.waiting()) == 2, what="both asks handed to the outbox")
        # gammu-smsd gives up on both (no network): it moves their files to the error folder
        for name in modem.waiting():
            (modem.spool / "outbox" / name).rename(modem.spool / "error" / name)
        modem.start()
        await until(lambda: any(sms.to == TIER2 for sms in modem.sent()), what="tier 2 asked", within_s=10)
    [alert] = deployment.alerts()
    # within 10 s: tier 2 did not wait out tier 1's 60 s timeout
    assert (alert["state"], alert["tier"]) == ("open", 2)


async def test_sigkill_with_asks_in_the_modem_s_hands_sends_each_exactly_once(
    deployment: Deployment, modem: DummyModem
) -> None:
    on_modem(deployment, modem)
    modem.stop()  # asks stay in the outbox: handed over, not yet sent
    async with deployment.process() as monitor:
        await deployment.press("btn-1")
        await until(lambda: len(modem.waiting()) == 2, what="both asks handed to the outbox")
        monitor.kill()
        modem.start()
        await monitor.start()
        await until(lambda: len(modem.sent()) == 2, what="both asks sent", within_s=15)
        await until(lambda: not modem.waiting(), what="nothing left to send")
    assert sorted(sms.to for sms in modem.sent()) == sorted(TIER1)


def test_check_config_names_the_gammu_smsd_setting_that_would_garble_chinese(
    deployment: Deployment, modem: DummyModem
) -> None:
    on_modem(deployment, modem)
    good = deployment.cli("check-config", str(deployment.config_path))
    assert good.returncode == 0, good.stderr
    assert f"{modem.smsdrc}: gammu-smsd spool OK" in good.stdout
    modem.smsdrc.write_text(modem.smsdrc.read_text().replace("outboxformat = unicode\n", ""))
    result = deployment.cli("check-config", str(deployment.config_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [sentence] = result.stderr.strip().splitlines()
    assert f"{modem.smsdrc}: [smsd] outboxformat must be unicode" in sentence
    assert "set outboxformat = unicode and transmitformat = auto" in sentence
