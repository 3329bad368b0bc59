"""The console's directory pages and API carry the on-call parts: a volunteer edited at the
console keeps their schedule, and schedules, places, consent, "nearest" tiers and inform lists
can be entered there too."""

from __future__ import annotations

import html
import re

from monitor.store.models import EscalationPolicy, Volunteer
from monitor.users.identity import Role
from tests.oncall.kit import WEDNESDAY_1900, directory, use_directory
from tests.support.deployment import Deployment
from tests.watch.kit import ShiftedClock, monitor_on
from tests.web.support import ConsoleClient, add_user

EXCEPTIONS = "2026-10-01 .. 2026-10-07 off National Day"


def field(page: str, name: str) -> str:
    textarea = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    if textarea:
        return html.unescape(textarea.group(1))
    found = re.search(rf'<input id="f-{name}" name="{name}" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


async def test_schedules_survive_a_console_edit_and_can_be_entered_there(deployment: Deployment) -> None:
    use_directory(deployment, directory())
    async with monitor_on(deployment, ShiftedClock(WEDNESDAY_1900)) as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with ConsoleClient(deployment.web_url) as admin:
            await admin.sign_in("admin")
            page = (await admin.http.get("/directory/volunteers/v-1/edit")).text
            values = {name: field(page, name) for name in ("name", "phone", "areas", "language", "role", "on_call")}
            saved = await admin.post(
                "/directory/volunteers/v-1/edit",
                {**values, "name": "Li Ming (evenings)", "exceptions": EXCEPTIONS, "share_location": "on"},
            )
            wrong = await admin.post("/directory/volunteers/v-1/edit", {**values, "on_call": "18:00-23:00"})
            policy = await admin.http.put(
                "/api/directory/policies/nearest",
                headers={"X-CSRF-Token": admin.csrf},
                json={
                    "tiers": [
                        {"notify": ["area"], "ack_timeout_s": 60, "order": "nearest", "per_person_timeout_s": 45},
                        {"notify": ["role:leader"], "ack_timeout_s": 120},
                    ],
                    "inform": ["family"],
                },
            )
            listed = (await admin.http.get("/api/directory/policies/nearest")).json()
        async with monitor.database.read() as session:
            li_ming = await session.get(Volunteer, "v-1")
            stored = await session.get(EscalationPolicy, "nearest")

    assert values["on_call"] == "daily 18:00-23:00"
    assert saved.status_code == 303, saved.text
    assert li_ming is not None and li_ming.name == "Li Ming (evenings)" and li_ming.share_location
    assert li_ming.schedule == {
        "on_call": [{"days": [0, 1, 2, 3, 4, 5, 6], "from": "18:00", "to": "23:00"}],
        "exceptions": [
            {"on_call": False, "from": "2026-10-01T00:00", "to": "2026-10-08T00:00", "note": "National Day"}
        ],
    }
    assert wrong.status_code == 400 and "start with the days" in wrong.text
    assert policy.status_code == 201, policy.text
    assert listed["tiers"] == "area ; 60 ; nearest 45\nrole:leader ; 120" and listed["inform"] == "family"
    assert stored is not None and stored.inform == ["family"]
    assert stored.tiers[0]["order"] == "nearest" and stored.tiers[0]["per_person_timeout_s"] == 45
