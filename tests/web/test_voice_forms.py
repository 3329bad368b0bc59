"""Tiers that call keep their channels and call_after_s through the console's pages and the API
(written as "; by sms voice" and "; call after 60" on a tier's line), and a volunteer edited at
the console keeps whether and when they may be called."""

from __future__ import annotations

import html
import re

from monitor.store.models import EscalationPolicy, Volunteer
from monitor.users.identity import Role
from tests.oncall.kit import WEDNESDAY_1900, directory, use_directory
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, monitor_on
from tests.web.support import ConsoleClient, add_user


def field(page: str, name: str) -> str:
    """A form field's value as the page shows it: a text input's, a textarea's, a select's chosen option."""
    select = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
        return chosen.group(1) if chosen else ""
    textarea = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if textarea:
        return html.unescape(textarea.group(1))
    found = re.search(rf'<input id="f-{name}" name="{name}" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


async def test_tiers_that_call_survive_the_api_and_a_console_edit(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")
            created = await admin.http.put(
                "/api/directory/policies/calling",
                headers={"X-CSRF-Token": admin.csrf},
                json={
                    "tiers": [
                        {"notify": ["area"], "ack_timeout_s": 120, "call_after_s": 60},
                        {"notify": ["role:leader"], "ack_timeout_s": 180, "channels": ["sms", "voice"]},
                    ]
                },
            )
            listed = (await admin.http.get("/api/directory/policies/calling")).json()
            edited = await admin.post(
                "/directory/policies/calling/edit",
                {"id": "calling", "tiers": listed["tiers"].replace("120", "150"), "repeat": "0", "inform": ""},
            )
            refused = await admin.post(
                "/directory/policies/calling/edit",
                {"id": "calling", "tiers": "area ; 120 ; by sms voice ; call after 60", "repeat": "0", "inform": ""},
            )
        async with monitor.database.read() as session:
            stored = await session.get(EscalationPolicy, "calling")
    assert created.status_code == 201, created.text
    assert listed["tiers"] == "area ; 120 ; call after 60\nrole:leader ; 180 ; by sms voice"
    assert edited.status_code == 303, edited.text
    assert stored is not None
    assert [(tier["ack_timeout_s"], tier["channels"], tier["call_after_s"]) for tier in stored.tiers] == [
        (150, ["sms"], 60),
        (180, ["sms", "voice"], None),
    ]
    assert refused.status_code == 400 and "channels already calls everyone at once" in refused.text


async def test_a_volunteers_calls_can_be_set_and_survive_a_console_edit(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")
            page = (await admin.http.get("/directory/volunteers/v-1/edit")).text
            names = ("name", "phone", "areas", "language", "role", "on_call", "voice", "voice_hours")
            values = {name: field(page, name) for name in names}
            night = await admin.post("/directory/volunteers/v-1/edit", {**values, "voice_hours": "22:00-07:00"})
            renamed = await admin.post(
                "/directory/volunteers/v-1/edit",
                {**values, "name": "Li Ming (nights)", "voice_hours": "22:00-07:00"},
            )
            wrong = await admin.post("/directory/volunteers/v-1/edit", {**values, "voice_hours": "nights"})
            never = await admin.http.put(
                "/api/directory/volunteers/v-1",
                headers={"X-CSRF-Token": admin.csrf},
                json={"name": "Li Ming", "phone": "+8613900000001", "areas": ["a-1"], "voice": False},
            )
        async with monitor.database.read() as session:
            li_ming = await session.get(Volunteer, "v-1")
    assert values["voice"] == "yes" and values["voice_hours"] == ""
    assert night.status_code == 303 and renamed.status_code == 303, renamed.text
    assert wrong.status_code == 400 and "HH:MM-HH:MM" in wrong.text
    assert never.status_code in (200, 201), never.text
    assert li_ming is not None and (li_ming.voice, li_ming.voice_hours) == (False, None)
