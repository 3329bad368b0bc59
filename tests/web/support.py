"""Helpers for the console tests: accounts, and an HTTP client that signs in like a browser."""

from __future__ import annotations

import re
import subprocess
import sys
from types import TracebackType

import httpx

from monitor.runtime.service import Monitor
from monitor.store.models import ResidentCard
from monitor.users.accounts import NewUser, create_user
from monitor.users.identity import Role
from monitor.users.passwords import Passwords
from simulator.directory_entries import entry
from tests.support.deployment import REPO, Deployment

PASSWORD = "correct horse battery"

EAST_RESIDENT = "Zhao East"
WEST_RESIDENT = "Qian West"
#: Two offices, an area each with a resident and a button; a volunteer each, one serving both
#: areas (managed by the east office), and a duty desk each.
OFFICES = "".join(
    (
        entry("organisations", id="so-east", name="East Street Office"),
        entry("organisations", id="so-west", name="West Community Centre"),
        entry("areas", id="east", name="East Lanes", organisation="so-east"),
        entry("areas", id="west", name="West Gardens", organisation="so-west"),
        entry("residents", id="r-east", name=EAST_RESIDENT, area="east", address="1 East Lane", language="en"),
        entry("residents", id="r-west", name=WEST_RESIDENT, area="west", address="9 West Garden", language="en"),
        entry("devices", id="btn-east", resident="r-east"),
        entry("devices", id="btn-west", resident="r-west"),
        entry("volunteers", id="v-east", name="Eve East", phone="+8613900000301", areas=["east"]),
        entry("volunteers", id="v-west", name="Wu West", phone="+8613900000302", areas=["west"]),
        entry(
            "volunteers",
            id="v-both",
            name="Bo Both",
            phone="+8613900000303",
            areas=["east", "west"],
            organisation="so-east",
        ),
        entry(
            "volunteers", id="desk-e", name="East Desk", phone="+8613900000304", role="staff", organisation="so-east"
        ),
        entry(
            "volunteers", id="desk-w", name="West Desk", phone="+8613900000305", role="staff", organisation="so-west"
        ),
    )
)
#: a consenting resident's camera (``consenting_camera``)
CAMERA = "https://camera.example/home-1?key=s3cret"


def callwatch(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def cli_user(deployment: Deployment, name: str, role: str, *scope: str) -> dict[str, str]:
    """Add an account with ``callwatch user add`` and make it an API token; its bearer header."""
    config = str(deployment.config_path)
    added = callwatch(
        "user", "add", name, "--role", role, "--language", "en", *scope, "--password-stdin", "--config", config,
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = callwatch("user", "token", name, "--config", config)
    assert token.returncode == 0, token.stderr
    return {"Authorization": f"Bearer {token.stdout.strip()}"}


async def add_user(
    monitor: Monitor,
    name: str,
    *,
    role: Role = Role.DUTY,
    language: str = "en",
    display_name: str | None = None,
    organisation: str | None = None,
) -> None:
    async with monitor.database.write() as session:
        await create_user(
            session,
            Passwords(),
            NewUser(
                name=name,
                display_name=display_name or name.title(),
                role=role,
                language=language,
                password=PASSWORD,
                organisation=organisation,
            ),
            monitor.clock.now(),
            actor="test",
        )


async def consenting_camera(monitor: Monitor, resident_id: str) -> None:
    async with monitor.database.write() as session:
        session.add(
            ResidentCard(
                resident_id=resident_id,
                camera_url=CAMERA,
                camera_consent=True,
                updated_at=monitor.clock.now(),
                updated_by="test",
            )
        )


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name} in the page"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    assert found
    return found.group(1)


class ConsoleClient:
    """A cookie-keeping client for the console at ``base_url``."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=10)
        self.csrf = ""

    async def __aenter__(self) -> ConsoleClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.http.aclose()

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        form = await self.http.get("/login")
        answer = await self.http.post(
            "/login",
            data={"name": name, "password": password, "sign_in_token": hidden_value(form.text, "sign_in_token")},
        )
        if answer.status_code == 303:
            board = await self.http.get("/")
            self.csrf = csrf_of(board.text)
        return answer

    async def post(self, path: str, data: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)  # type: ignore[arg-type]
