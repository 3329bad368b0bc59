"""Every way an admin saves a device refuses a topic the broker would choke on (issue #20,
finding 1), over HTTP as a browser or a script does it: the console's form, the JSON API and
a CSV file with a quoted multi-line cell. The message stands beside the topic field, and
nothing is saved."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from monitor.store.models import ConsoleUser, Device
from monitor.users.identity import Role
from monitor.users.tokens import issue_token
from tests.support.deployment import Deployment
from tests.web.support import ConsoleClient, add_user
from tests.web.test_console_directory import field_errors

TAB = "holds the control or invisible character U+0009"
LINE_BREAK = "holds the control or invisible character U+000A"


async def test_the_form_the_api_and_csv_refuse_control_characters_in_a_topic(deployment: Deployment) -> None:
    async with deployment.monitor() as monitor:
        await add_user(monitor, "admin", role=Role.ADMIN)
        async with monitor.database.write() as session:
            user = await session.scalar(select(ConsoleUser).where(ConsoleUser.name == "admin"))
            assert user is not None
            _, token = await issue_token(session, user, "test", monitor.clock.now())
        async with (
            ConsoleClient(deployment.web_url) as admin,
            httpx.AsyncClient(base_url=deployment.web_url, headers={"Authorization": f"Bearer {token}"}) as api,
        ):
            await admin.sign_in("admin")
            form = await admin.post(
                "/directory/devices/new",
                {"id": "dev-tab2", "resident": "r-1", "protocol": "native", "topic": "site\t2/dev-tab2"},
            )
            assert form.status_code == 400
            assert field_errors(form.text, "topic") == [TAB]

            put = await api.put(
                "/api/directory/devices/cam-inj",
                json={"resident": "r-1", "topic": "cam/inj\ntopic write callwatch/btn-01/event\nuser x"},
            )
            assert put.status_code == 400 and put.json()["problems"] == {"topic": [LINE_BREAK]}
            surrogate = await api.put(
                "/api/directory/devices/cam-2",
                content=b'{"resident": "r-1", "topic": "cam/\\ud800"}',
                headers={"Content-Type": "application/json"},
            )
            assert surrogate.status_code == 400
            assert surrogate.json()["problems"] == {
                "topic": ["is not valid UTF-8 (it holds the lone surrogate U+D800)"]
            }
            serial = await api.put(
                "/api/directory/devices/watch-9", json={"resident": "r-1", "protocol": "traccar", "serial": "86\n80"}
            )
            assert serial.status_code == 400 and serial.json()["problems"] == {"serial": [LINE_BREAK]}

            csv = (
                "id,resident,protocol,topic\n"
                'cam-inj,r-1,native,"cam/inj\ntopic write callwatch/btn-01/event\nuser x"\n'
                "btn-9,r-1,native,callwatch/btn-9\n"
            )
            imported = await admin.post(
                "/directory/devices/import", files={"file": ("devices.csv", csv.encode(), "text/csv")}
            )
            assert imported.status_code == 400
            assert f"row 2 (id &#34;cam-inj&#34;), column topic: {LINE_BREAK}" in imported.text

            # A plain topic with a space and Chinese is still fine.
            plain = await api.put(
                "/api/directory/devices/hall",
                json={"resident": "r-1", "protocol": "zigbee2mqtt", "topic": "z2m/大厅 按钮"},
            )
            assert plain.status_code == 201, plain.text
        async with monitor.database.read() as session:
            saved = set((await session.scalars(select(Device.id))).all())
    assert saved == {"btn-1", "btn-2", "hall"}
