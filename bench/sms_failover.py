"""SMS failover timing: Alibaba Cloud's API answers 500, and the asks go out through the GSM
modem (gammu-smsd on Gammu's dummy phone). How long from the refusal to the modem's send, over
``--asks`` asks; the baseline, in the same run, is presses made while Alibaba Cloud is already
known to be down, whose asks go straight to the modem.

    python -m bench.sms_failover [--asks 50]

Each press asks the two volunteers of tier 1, one press at a time. Before each failover press
the provider's row is put back to "up" and the bench waits until ``/healthz`` shows it so: both
asks are tried on Alibaba Cloud, refused, and handed to the modem, so every ask measured
follows a real refusal. The modem's send time is when the message's file appeared in
gammu-smsd's sent folder (looked at every 50 ms). Every ask must reach the modem exactly once and none may go anywhere else
(else exit 1). Goal: p99 of refusal -> modem send under 5 s (gammu-smsd looks at its outbox
about once a second).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import update

from bench.harness import BenchFailure, command_line, lateness_table, note, percentile, progress, verdict
from monitor.store.database import Database
from monitor.store.models import ProviderState
from simulator.directory_entries import directory_file
from simulator.harness.deployment import Deployment
from simulator.harness.dummy_modem import DummyModem
from simulator.harness.mosquitto import Mosquitto
from simulator.harness.ports import free_port
from simulator.harness.waiting import until
from simulator.load.directory import pressing_residents
from simulator.sandbox import SmsSandbox

GOAL_S = 5.0
#: tier 1 of the deployment's directory: two volunteers
ASKS_PER_PRESS = 2
#: the monitor reads the providers' rows again at each upkeep of its outbox (every 5 s)
PROVIDER_SEEN_WITHIN_S = 15.0


def sent_names(modem: DummyModem) -> set[str]:
    """The messages gammu-smsd has sent, by file name (callwatch renames a file it has recorded
    ``….reported``)."""
    sent = modem.spool / "sent"
    return {path.name.removesuffix(".reported") for path in sent.iterdir() if not path.name.startswith(".")}


def aliyun_shown(web: httpx.AsyncClient, up: bool) -> Callable[[], Awaitable[bool]]:
    """A check: whether ``/healthz`` shows Alibaba Cloud as ``up`` (True) or down (False)."""

    async def shown() -> bool:
        components = (await web.get("/healthz")).json()["components"]
        return bool(components["sms:aliyun"]["ok"]) is up

    return shown


async def press_and_wait(deployment: Deployment, modem: DummyModem, device: str) -> tuple[float, dict[str, float]]:
    """Press ``device``; when it was pressed and when each of its asks reached gammu-smsd's sent
    folder (epoch s; the folder is looked at every 50 ms: a file's own times are when callwatch
    wrote it, which a move to the sent folder keeps)."""
    before = sent_names(modem)
    seen: dict[str, float] = {}

    def both_sent() -> bool:
        now = time.time()
        for name in sent_names(modem) - before:
            seen.setdefault(name, now)
        return len(seen) >= ASKS_PER_PRESS

    pressed = time.time()
    await deployment.press(device)
    await until(both_sent, what=f"{device}'s asks sent by the modem", within_s=30)
    return pressed, seen


async def main(asks: int) -> None:
    presses = max(1, asks // ASKS_PER_PRESS)
    devices = [f"btn-f{index:03d}" for index in range(2 * presses)]
    refusal_to_send: list[float] = []
    failover_press_to_send: list[float] = []
    straight_press_to_send: list[float] = []
    with tempfile.TemporaryDirectory(prefix="callwatch-bench-sms-failover-") as scratch:
        folder = Path(scratch)
        database_url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        async with Mosquitto(folder / "broker") as broker, SmsSandbox(status_step_delay=0.0) as sandbox:
            with DummyModem(folder / "modem") as modem:
                deployment = Deployment(
                    folder=folder, broker=broker, sandbox=sandbox, database_url=database_url, web_port=free_port()
                )
                deployment.sms_providers = ("aliyun", "modem")
                deployment.modem = modem
                deployment.write_files(directory_extra=directory_file(*pressing_residents(devices, "a-1")))
                sandbox.faults.fail_next(None, status=500, provider="aliyun")
                async with (
                    deployment.process(),
                    Database(database_url) as database,
                    httpx.AsyncClient(base_url=deployment.web_url) as web,
                ):
                    for index, device in enumerate(devices[:presses]):
                        async with database.write() as session:
                            await session.execute(
                                update(ProviderState)
                                .where(ProviderState.provider == "aliyun")
                                .values(up=True, failures=0)
                            )
                        await until(
                            aliyun_shown(web, True), what="Alibaba Cloud up again", within_s=PROVIDER_SEEN_WITHIN_S
                        )
                        refused_before = len(refusals(sandbox))
                        pressed, files = await press_and_wait(deployment, modem, device)
                        refused = refusals(sandbox)[refused_before:]
                        if len(refused) != ASKS_PER_PRESS:
                            raise BenchFailure(
                                f"{device}: {len(refused)} asks refused by Alibaba Cloud, not {ASKS_PER_PRESS}"
                            )
                        for at in files.values():
                            failover_press_to_send.append(at - pressed)
                        for refusal, at in zip(sorted(refused), sorted(files.values()), strict=True):
                            refusal_to_send.append(at - refusal)
                        progress("failover presses", index + 1, presses)
                    await until(aliyun_shown(web, False), what="Alibaba Cloud down", within_s=PROVIDER_SEEN_WITHIN_S)
                    refused_before = len(refusals(sandbox))
                    for index, device in enumerate(devices[presses:]):
                        pressed, files = await press_and_wait(deployment, modem, device)
                        straight_press_to_send.extend(at - pressed for at in files.values())
                        progress("presses with Alibaba Cloud down", index + 1, presses)
                    if len(refusals(sandbox)) != refused_before:
                        note("Alibaba Cloud was tried again while down (its periodic check)")
            if sandbox.messages():
                raise BenchFailure(f"{len(sandbox.messages())} asks went through Twilio's API, which is not configured")
            if len(sent_names(modem)) != 2 * presses * ASKS_PER_PRESS:
                raise BenchFailure(
                    f"the modem sent {len(sent_names(modem))} messages for {2 * presses * ASKS_PER_PRESS} asks"
                )
    lateness_table(
        "SMS failover: Alibaba Cloud answers 500, the GSM modem sends (seconds)",
        {
            "failover": {"refusal -> modem": refusal_to_send, "press -> modem": failover_press_to_send},
            "already down (base)": {"press -> modem": straight_press_to_send},
        },
    )
    worst = percentile(refusal_to_send, 0.99)
    print(f"refusal -> modem send p99 {worst:.3f} s {verdict(f'p99 < {GOAL_S:g} s', worst < GOAL_S)}")


def refusals(sandbox: SmsSandbox) -> list[float]:
    """When Alibaba Cloud's API refused each send (epoch s), in order."""
    return [
        attempt.arrived_wall
        for attempt in sandbox.create_attempts()
        if attempt.provider == "aliyun" and attempt.answered_status == 500
    ]


if __name__ == "__main__":
    command_line(main, __doc__, asks=50)
