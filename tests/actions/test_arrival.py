"""Arrival seen from a volunteer's shared phone position, through the ingest processor on a real
database: Roaming Rita (n-3, shares her OwnTracks position) takes Ada Byrne's SOS (r-n, at home
at the centre of area a-n); the default policy counts 100 m as there."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from devices.base import DeviceMessage
from monitor.core.effects import Effects
from tests.escalation.kit import HOME_OF_R_N, World, world
from tests.oncall.kit import ROAMING

#: metres per degree of latitude, near enough
METRES_PER_DEGREE = 111_320


async def _rita_is(w: World, metres_north: float, *, fixed_at: datetime | None = None) -> None:
    """Rita's OwnTracks app reports a fix ``metres_north`` of the resident's home."""
    fix = {
        "_type": "location",
        "lat": HOME_OF_R_N[0] + metres_north / METRES_PER_DEGREE,
        "lon": HOME_OF_R_N[1],
        "acc": 8,
        "tst": int((fixed_at or w.clock.now()).timestamp()),
    }
    message = DeviceMessage("owntracks/n3/phone", json.dumps(fix).encode(), False, w.clock.now())
    processor = await w.processor()

    async def work(session: AsyncSession, effects: Effects) -> None:
        await processor.process(session, [message], effects)

    await w.write(work)


async def test_a_fix_60_m_from_home_after_taking_it_is_on_site_and_400_m_is_not(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos("r-n", "btn-n")
        await w.reply(ROAMING, "ACK")
        w.clock.advance(minutes=5)
        await _rita_is(w, 400)
        still_coming = await w.alert(alert_id)
        w.clock.advance(minutes=3)
        arrived_at = w.clock.now()
        await _rita_is(w, 60)
        arrived = await w.alert(alert_id)
        [logged] = await w.log(alert_id, "on_site")
        w.clock.advance(minutes=1)
        here = await w.reply(ROAMING, "HERE")
        after_here = await w.alert(alert_id)
        told = [row.template for row in await w.notifications(alert_id=alert_id, phone=ROAMING)]
        feedback = [item.payload["state"] for effects in w.applied for item in effects.feedback]

    assert still_coming.state == "acknowledged"
    assert (arrived.state, arrived.on_site_by, arrived.on_site_at) == ("on_site", "n-3", arrived_at)
    assert logged.actor == "volunteer:n-3"
    assert "60 m from the resident's home" in logged.detail and "±8 m" in logged.detail
    assert here.value == "on_site" and after_here.on_site_at == arrived_at  # HERE changes nothing, is confirmed
    assert told == ["ask", "ack_confirmation", "on_site", "on_site"]
    assert feedback[-1] == "on_site"


async def test_a_position_from_before_the_alert_was_taken_does_not_count(database_url: str) -> None:
    async with world(database_url) as w:
        alert_id = await w.raise_sos("r-n", "btn-n")
        w.clock.advance(minutes=1)
        before = w.clock.now()
        w.clock.advance(minutes=1)
        await w.reply(ROAMING, "ACK")
        await _rita_is(w, 20, fixed_at=before)  # the app's retained fix, from before
        alert = await w.alert(alert_id)

    assert alert.state == "acknowledged"
