"""Erasing a person: no text column of any table still holds a resident's name, phone, address,
notes or her family's names and phones (nor a volunteer's name and phone), her positions and raw
messages are gone, and her alerts stay with their counts and times; the CLI asks first and the
audit log records the erasure without the erased data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.core.errors import UserError
from monitor.directory.erase import erase_person
from monitor.store import models
from monitor.store.database import Database
from simulator.harness import neighbourhood as people
from tests.escalation.kit import World, world
from tests.oncall.kit import LI_MING, WANG_LEI
from tests.support.deployment import Deployment

NOTES = "Insulin in the fridge; 胰岛素在冰箱里"
HERE = (30.2741, 120.1551, 12.0, datetime(2026, 5, 6, 11, 0, tzinfo=UTC))


async def holding(session: AsyncSession, needles: list[str]) -> list[str]:
    """``table.column`` of every text cell holding one of ``needles``."""
    found = []
    for table in models.Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String | Text):
                for needle in needles:
                    if await session.scalar(select(func.count()).where(column.contains(needle, autoescape=True))):
                        found.append(f"{table.name}.{column.name} holds {needle!r}")
    return found


async def three_handled_alerts(w: World) -> list[int]:
    """Three SOS of r-1 with her position, each taken and ended by SMS, with a raw message each."""
    alert_ids = []
    for _ in range(3):
        alert_id = await w.raise_sos(position=HERE)
        await w.reply(LI_MING, "ACK")
        await w.reply(LI_MING, "DONE")
        alert_ids.append(alert_id)
    async with w.database.write() as session:
        await session.execute(update(models.Resident).where(models.Resident.id == "r-1").values(notes=NOTES))
        session.add(
            models.DeviceMessage(
                received_at=HERE[3],
                topic="callwatch/btn-1/event",
                payload=b'{"type":"sos","lat":30.2741,"lon":120.1551}',
                payload_size=44,
                retained=False,
                device_id="btn-1",
                outcome="accepted",
                detail="",
            )
        )
    return alert_ids


async def test_an_erased_resident_is_nowhere_but_her_alerts_still_count(database_url: str) -> None:
    wang = people.WANG_XIUYING
    needles = [str(wang["name"]), str(wang["address"]), str(wang["phone"]), NOTES, "Wang Lei", WANG_LEI]
    async with world(database_url) as w:
        alert_ids = await three_handled_alerts(w)
        async with w.database.read() as session:
            before = await holding(session, needles)
            record = (await session.execute(select(models.Alert.id, models.Alert.raised_at, models.Alert.state))).all()
        async with w.database.write() as session:
            erased = await erase_person(session, "resident", "r-1")
        async with w.database.read() as session:
            after = await holding(session, needles)
            record_after = (
                await session.execute(select(models.Alert.id, models.Alert.raised_at, models.Alert.state))
            ).all()
            positions = (await session.execute(select(models.Alert.lat).where(models.Alert.id.in_(alert_ids)))).all()
            payloads = (await session.scalars(select(models.DeviceMessage.payload))).all()
            device = await session.get(models.Device, "btn-1")
            family = (await session.scalars(select(models.FamilyContact))).all()

    assert len(before) >= 5  # her name, address, phone ... were in SMS texts, logs and her row
    assert after == []
    assert erased.cells >= len(before)
    assert record_after == record  # the reports' counts and times do not change
    assert positions == [(None,)] * 3 and set(payloads) == {b""}
    assert device is not None and device.last_lat is None and not device.active
    assert [contact.resident_id for contact in family] == []  # her son's row is gone (the only family here)


async def test_a_volunteer_is_erased_and_someone_with_an_open_alert_is_not(database_url: str) -> None:
    async with world(database_url) as w:
        await three_handled_alerts(w)
        open_alert = await w.raise_sos()
        async with w.database.write() as session:
            erased = await erase_person(session, "volunteer", "v-1")
        with pytest.raises(UserError) as refused:
            async with w.database.write() as session:
                await erase_person(session, "resident", "r-1")
        async with w.database.read() as session:
            after = await holding(session, ["Li Ming", LI_MING])
            still_there = await holding(session, [str(people.WANG_XIUYING["name"])])

    assert erased.cells > 0 and after == []
    assert str(refused.value) == f'erase: resident "r-1" has alert {open_alert} not yet ended; end it, then erase.'
    assert still_there  # refused: nothing of hers was touched


async def test_the_cli_asks_before_erasing_and_the_audit_log_records_it(deployment: Deployment) -> None:
    config = str(deployment.config_path)
    assert deployment.cli("import", str(deployment.directory_path), "--config", config).returncode == 0

    declined = deployment.cli("erase", "resident", "r-2", "--config", config, typed="n\n")
    erased = deployment.cli("erase", "resident", "r-2", "--config", config, "--yes")
    unknown = deployment.cli("erase", "volunteer", "v-404", "--config", config, "--yes")
    async with Database(deployment.database_url) as database, database.read() as session:
        audit = (
            await session.execute(
                select(
                    models.ConsoleAudit.actor,
                    models.ConsoleAudit.action,
                    models.ConsoleAudit.target,
                    models.ConsoleAudit.detail,
                )
            )
        ).all()

    assert declined.returncode == 1 and "not erased, nothing was changed" in declined.stdout
    assert erased.returncode == 0, erased.stderr
    assert "erased resident r-2:" in erased.stdout and "Margaret" not in erased.stdout
    assert unknown.returncode == 1 and unknown.stderr.strip() == (
        'callwatch: erase: there is no volunteer "v-404"; check the id.'
    )
    [(actor, action, target, detail)] = audit
    assert (actor, action, target) == ("cli", "erase", "resident:r-2") and "Margaret" not in detail
