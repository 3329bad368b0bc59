"""Micro-benchmarks of the optimisations kept in the code, each beside its baseline in the same run.

Every optimisation in callwatch must show a figure beyond noise here (or in another benchmark),
named in its module's docstring. Each part runs the optimised code and a baseline without the
optimisation in turns (A, B, A, B, ...) in one process on the same data, and prints the median
of the runs and their spread (lowest-highest). The runs pair up (one of each, in turns), and
"beyond noise" means one variant was lower in so many pairs that chance would explain it less
than once in twenty (a two-sided sign test); "within noise" that it would not.

  sqlite        statements of a write transaction on the event loop's thread
                (``monitor.store.sqlite_inline``, what ``Database`` uses on SQLite) vs plain
                aiosqlite (an engine created without the inline connector)
  statements    statements built once with ``bindparam`` (module constants, and
                ``monitor.store.statements``' cache per shape) vs built at every call
  device-state  a batch of heartbeats on ``DeviceState`` copies written back in one UPDATE
                (``monitor.watch.state_copies``) vs setting the ORM attributes and flushing
  routes        ``Routes.adapters_for`` with its per-topic cache vs matching every filter
                each time (``monitor.ingest.topic_memo``), 10,000 devices
  residents     the batch's residents prefetched into the session before the alert handler
                runs (``monitor.ingest.resident_prefetch``) vs none: statements and time per batch

    python -m bench.tuning [sqlite|statements|device-state|routes|residents|all] [--repeat 9] [--short]

SQLite on a temporary file (WAL, synchronous=FULL, as the monitor); nothing else is started.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias, cast
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import monitor.ingest.processor as processing
from bench.harness import benchmark_command, machine
from devices.base import DeviceEvent, DeviceMessage, DeviceProfile, EventType
from monitor.actions.alert_actions import RESIDENT_AREA_POLICY, AlertActions
from monitor.alerts.lifecycle import URGENT_KINDS, AlertState
from monitor.core.effects import Effects
from monitor.core.metrics import Metrics
from monitor.directory.model import Directory
from monitor.directory.sync import import_directory
from monitor.escalation.engine import Escalation
from monitor.ingest.device_events import ONGOING_URGENT, DeviceEventHandler
from monitor.ingest.processor import MessageProcessor
from monitor.ingest.resident_prefetch import residents_at_hand
from monitor.ingest.routes import Routes
from monitor.notify.texts import MessageStyle
from monitor.store.database import Database, create_engine
from monitor.store.migrate import upgrade
from monitor.store.models import Alert, Area, Device, EscalationPolicy, Resident, SeenDeviceEvent
from monitor.store.statements import insert_many_unless_exist
from monitor.watch.device_state import record_sign_of_life
from monitor.watch.rules import SupervisionRules
from monitor.watch.state_copies import DeviceState, write_device_states
from simulator.directory_entries import TomlValue, directory_file, entry

#: the escalation policy of areas that name none (``RESIDENT_AREA_POLICY`` falls back to it)
DEFAULT_POLICY_ID = "default"
PARTS = ("sqlite", "statements", "device-state", "routes", "residents")
#: the clock of every part but ``sqlite``: CPU time of the event loop's thread, where all their work
#: runs (SQLite inline included), so other processes on the machine do not blur the figures;
#: ``sqlite`` times the wall clock, since what it measures is the waiting for another thread
cpu = time.thread_time
#: residents (each with one device) in the database the parts share: one batch's worth
DEVICES_IN_DATABASE = 200
#: the area's centre; every resident's safe zone is a 500 m circle around it
HOME = (30.2741, 120.1551)


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def line(self, unit: str, digits: int) -> str:
        return (
            f"    {self.label:<52} {self.median:>10.{digits}f} {unit:<14}[{self.low:.{digits}f}-{self.high:.{digits}f}]"
        )


#: what ``alternate`` returns: for the optimised variant and for its baseline, each figure's samples
Runs: TypeAlias = tuple[list[list[float]], list[list[float]]]


@dataclass(frozen=True)
class Variants:
    """The names of a part's two variants, as its figures are labelled."""

    tuned: str
    baseline: str


def compare(what: str, runs: Runs, variants: Variants, unit: str, *, figure: int = 0, digits: int = 1) -> None:
    """Print one figure (the ``figure``-th each run returns) of the optimised variant beside its
    baseline, the ratio of the medians and the verdict.

    The runs alternate, so they pair up: the verdict is a sign test over the pairs (two-sided,
    5 %), which one slow run caused by another process cannot overturn."""
    tuned = Figure(variants.tuned, runs[0][figure])
    baseline = Figure(variants.baseline, runs[1][figure])
    print(f"  {what}")
    print(tuned.line(unit, digits))
    print(baseline.line(unit, digits))
    pairs = list(zip(tuned.samples, baseline.samples, strict=True))
    won = sum(t < b for t, b in pairs)
    lost = sum(t > b for t, b in pairs)
    ratio = tuned.median / baseline.median if baseline.median else float("nan")
    verdict = "pays" if tuned.median < baseline.median else "COSTS" if tuned.median > baseline.median else "same"
    verdict += " beyond noise" if sign_test(won, lost) < 0.05 else ", within noise"
    print(f"    {'optimised / baseline':<52} {ratio:>10.2f}x          {verdict} (less in {won} of {len(pairs)} pairs)")


def sign_test(won: int, lost: int) -> float:
    """Two-sided p-value of ``won`` against ``lost`` (ties left out) if either were as likely."""
    trials = won + lost
    if trials == 0:
        return 1.0
    extreme = max(won, lost)
    tail: float = sum(math.comb(trials, k) for k in range(extreme, trials + 1)) / 2.0**trials
    return min(1.0, 2 * tail)


async def alternate(
    runs: int, tuned: Callable[[], Awaitable[Sequence[float]]], baseline: Callable[[], Awaitable[Sequence[float]]]
) -> Runs:
    """Run both in turns, ``runs`` times each after one warm-up each; each run returns several figures."""
    await tuned()
    await baseline()
    tuned_runs: list[list[float]] = []
    baseline_runs: list[list[float]] = []
    for index in range(runs):
        # Alternate which goes first, so neither always follows the other's garbage.
        order = [(tuned, tuned_runs), (baseline, baseline_runs)]
        for run, into in order if index % 2 == 0 else reversed(order):
            gc.collect()
            into.append(list(await run()))
    return [list(column) for column in zip(*tuned_runs, strict=True)], [
        list(column) for column in zip(*baseline_runs, strict=True)
    ]


def header(part: str, text: str) -> None:
    print(f"\n{part}: {text}", flush=True)


# -- a database with a directory --------------------------------------------------------------


def directory_text(residents: int, volunteers: int = 6) -> str:
    """``residents`` residents, each with a safe zone and a native GPS device (``btn-NNNNN``: it has an SOS
    button too) on its default topic; one area, a few volunteers, one tier."""
    lat, lon = HOME
    zone: dict[str, TomlValue] = {"lat": lat, "lon": lon, "radius_m": 500}
    entries = [entry("areas", id="a", name="Bench")]
    for index in range(residents):
        resident = f"r-{index:05d}"
        entries.append(
            entry(
                "residents",
                id=resident,
                name=f"Resident {index}",
                address=f"{index} Bench Road",
                area="a",
                language="en",
                safe_zone=zone,
            )
            + entry("devices", id=f"btn-{index:05d}", resident=resident, kind="gps_phone")
        )
    for index in range(volunteers):
        entries.append(
            entry(
                "volunteers", id=f"v-{index}", name=f"Volunteer {index}", phone=f"+86139000000{index:02d}", areas=["a"]
            )
        )
    entries.append(entry("policies", id=DEFAULT_POLICY_ID, tiers=[{"notify": ["area"], "ack_timeout_s": 3600}]))
    return directory_file(*entries)


async def prepare_database(folder: Path, residents: int) -> str:
    """A migrated SQLite database in ``folder`` holding ``directory_text(residents)``; its URL.

    Every part rolls back what it writes, so they all share it."""
    url = f"sqlite+aiosqlite:///{folder / 'tuning.db'}"
    async with Database(url) as database:
        await upgrade(database)
        await import_directory(database, Directory.model_validate(tomllib.loads(directory_text(residents))))
    return url


@asynccontextmanager
async def engines(url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """(inline, plain): the engine ``Database`` makes on SQLite, and the same without the inline connector."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqlite-wait") as waits:
        inline = create_engine(url, sqlite_waits=waits)
        plain = create_engine(url)
        try:
            yield inline, plain
        finally:
            await inline.dispose()
            await plain.dispose()


@asynccontextmanager
async def rolled_back(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A write transaction (``BEGIN IMMEDIATE``) that is rolled back: every run meets the same rows."""
    async with sessions() as session:
        await session.begin()
        try:
            yield session
        finally:
            await session.rollback()


def sessions_of(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def per_call(
    sessions: async_sessionmaker[AsyncSession], calls: int, call: Callable[[AsyncSession, int], Awaitable[object]]
) -> Callable[[], Awaitable[list[float]]]:
    """A run: ``call(session, index)`` for each of ``calls`` indexes in one rolled-back write
    transaction; its figure, CPU µs of the loop's thread per call."""

    async def run() -> list[float]:
        async with rolled_back(sessions) as session:
            started = cpu()
            for index in range(calls):
                await call(session, index)
            return [(cpu() - started) / calls * 1e6]

    return run


async def device_ids(url: str) -> list[str]:
    async with Database(url) as database, database.read() as session:
        return list((await session.scalars(select(Device.id).order_by(Device.id))).all())


# -- sqlite ----------------------------------------------------------------------------------

DEVICE_BY_ID = select(Device).where(Device.id == bindparam("device_id"))
SEEN_INSERT = sqlite.insert(SeenDeviceEvent)


async def part_sqlite(url: str, runs: int, selects: int, inserts: int) -> None:
    header(
        "sqlite",
        f"one write transaction: {selects:,} ORM selects of a device by id, then {inserts} single-row "
        f"INSERTs; wall-clock µs per statement, median of {runs} runs [lowest-highest]",
    )
    async with engines(url) as (inline, plain):
        ids = await device_ids(url)
        batch = iter(range(10**9))

        def transaction(engine: AsyncEngine) -> Callable[[], Awaitable[list[float]]]:
            sessions = sessions_of(engine)

            async def run() -> list[float]:
                tag = next(batch)
                seen_at = datetime.now(UTC)
                async with rolled_back(sessions) as session:
                    started = time.perf_counter()
                    for index in range(selects):
                        (await session.scalars(DEVICE_BY_ID, {"device_id": ids[index % len(ids)]})).one()
                    selected = time.perf_counter()
                    for index in range(inserts):
                        await session.execute(
                            SEEN_INSERT,
                            {"device_id": ids[index % len(ids)], "event_id": f"t{tag}-{index}", "seen_at": seen_at},
                        )
                    inserted = time.perf_counter()
                return [(selected - started) / selects * 1e6, (inserted - selected) / inserts * 1e6]

            return run

        measured = await alternate(runs, transaction(inline), transaction(plain))
    variants = Variants("on the event loop's thread (sqlite_inline)", "plain aiosqlite (baseline)")
    compare("ORM select (select(Device).where(id = :id))", measured, variants, "wall µs/stmt")
    compare("single-row INSERT (seen_device_events)", measured, variants, "wall µs/stmt", figure=1)


# -- statements ------------------------------------------------------------------------------


def ongoing_urgent_built_now(resident_id: str) -> Any:
    """``monitor.ingest.device_events.ONGOING_URGENT``, built as a call would without the constant."""
    return (
        select(Alert)
        .where(
            Alert.resident_id == resident_id,
            Alert.kind.in_([kind.value for kind in URGENT_KINDS]),
            Alert.state.in_([AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]),
        )
        .order_by(Alert.id.desc())
        .limit(1)
        .with_for_update()
    )


def resident_area_policy_built_now(resident_id: str) -> Any:
    """``monitor.actions.alert_actions.RESIDENT_AREA_POLICY``, built at the call."""
    return (
        select(Resident, Area, EscalationPolicy)
        .join(Area, Area.id == Resident.area_id)
        .outerjoin(EscalationPolicy, EscalationPolicy.id == func.coalesce(Area.policy_id, DEFAULT_POLICY_ID))
        .where(Resident.id == resident_id)
    )


async def part_statements(url: str, runs: int, calls: int) -> None:
    header(
        "statements",
        f"{calls:,} executions of each in one write transaction (the event loop's thread, as the monitor); "
        f"CPU µs of the loop's thread per execution, median of {runs} runs [lowest-highest]",
    )
    async with engines(url) as (inline, _):
        sessions = sessions_of(inline)
        residents = [f"r-{index:05d}" for index in range(DEVICES_IN_DATABASE)]
        devices = await device_ids(url)
        batch = iter(range(10**9))

        def resident(index: int) -> str:
            return residents[index % len(residents)]

        async def ongoing_built_once(session: AsyncSession, index: int) -> None:
            await session.scalar(ONGOING_URGENT, {"resident_id": resident(index)})

        async def ongoing_built_now(session: AsyncSession, index: int) -> None:
            await session.scalar(ongoing_urgent_built_now(resident(index)))

        async def resident_area_policy_built_once(session: AsyncSession, index: int) -> None:
            (await session.execute(RESIDENT_AREA_POLICY, {"resident_id": resident(index)})).one_or_none()

        async def resident_area_policy_now(session: AsyncSession, index: int) -> None:
            (await session.execute(resident_area_policy_built_now(resident(index)))).one_or_none()

        def seen_event(cached: bool) -> Callable[[], Awaitable[list[float]]]:
            """The press's seen-event row, as ``MessageProcessor._drop_seen`` writes it."""
            key_columns = ["device_id", "event_id"]
            returning = (SeenDeviceEvent.device_id, SeenDeviceEvent.event_id)

            async def run() -> list[float]:
                tag = next(batch)
                seen_at = datetime.now(UTC)
                async with rolled_back(sessions) as session:
                    connection = await session.connection()
                    started = cpu()
                    for index in range(calls):
                        rows = [
                            {
                                "device_id": devices[index % len(devices)],
                                "event_id": f"s{tag}-{index}",
                                "seen_at": seen_at,
                            }
                        ]
                        if cached:
                            await insert_many_unless_exist(session, SeenDeviceEvent, rows, key_columns, returning)
                        else:
                            statement = (
                                sqlite.insert(SeenDeviceEvent)
                                .on_conflict_do_nothing(index_elements=key_columns)
                                .returning(*returning)
                            )
                            (await connection.execute(statement, rows)).all()
                    return [(cpu() - started) / calls * 1e6]

            return run

        def building(built_once: bool) -> Callable[[], Awaitable[list[float]]]:
            """Only the building: the constant taken, or the statement built; nothing executed."""

            async def run() -> list[float]:
                built = []
                started = cpu()
                for index in range(calls):
                    built.append(ONGOING_URGENT if built_once else ongoing_urgent_built_now(resident(index)))
                return [(cpu() - started) / calls * 1e6]

            return run

        open_alert = await alternate(
            runs, per_call(sessions, calls, ongoing_built_once), per_call(sessions, calls, ongoing_built_now)
        )
        area_policy = await alternate(
            runs,
            per_call(sessions, calls, resident_area_policy_built_once),
            per_call(sessions, calls, resident_area_policy_now),
        )
        seen = await alternate(runs, seen_event(True), seen_event(False))
        built = await alternate(runs, building(True), building(False))
    bindparam = Variants("built once, bindparam", "built at each call (baseline)")
    executed = {
        "the resident's open urgent alert, FOR UPDATE (device_events.ONGOING_URGENT)": open_alert,
        "resident, area and policy, a join of three (alert_actions.RESIDENT_AREA_POLICY)": area_policy,
    }
    for what, measured in executed.items():
        compare(what, measured, bindparam, "CPU µs/exec")
    compare(
        "a seen event: INSERT .. ON CONFLICT DO NOTHING RETURNING (statements.insert_many_unless_exist)",
        seen,
        Variants("built once per shape (functools.cache)", bindparam.baseline),
        "CPU µs/exec",
    )
    compare(
        "of which building alone: ONGOING_URGENT taken or built, not executed (nor its cache key made)",
        built,
        bindparam,
        "CPU µs/stmt",
        digits=2,
    )


# -- device state ----------------------------------------------------------------------------


async def part_device_state(url: str, runs: int, batch_size: int, batches: int) -> None:
    header(
        "device-state",
        f"{batches} batches of {batch_size} heartbeats from {batch_size} devices, state recorded and written in "
        f"a write transaction each; CPU µs of the loop's thread per message, median of {runs} runs [lowest-highest]",
    )
    rules = SupervisionRules()
    async with engines(url) as (inline, _):
        sessions = sessions_of(inline)
        clock = iter(range(1, 10**9))
        start = datetime.now(UTC).replace(microsecond=0)

        async def batch(copies: bool) -> float:
            """One batch's CPU time: from the devices as loaded to their state written."""
            tick = next(clock)
            now = start + timedelta(seconds=tick)
            beat = DeviceEvent(EventType.HEARTBEAT, event_id=None, battery=90 - tick % 7, signal=-60 - tick % 5)
            async with rolled_back(sessions) as session:
                devices = (await session.scalars(select(Device).order_by(Device.id))).all()
                started = cpu()
                if copies:
                    states: list[tuple[Device, DeviceState]] = []
                    for device in devices:
                        state = DeviceState.of(device)
                        state.adapter_state = {}
                        record_sign_of_life(state, (beat,), now, retained=False, rules=rules)
                        states.append((device, state))
                    await write_device_states(session, states)
                else:
                    for device in devices:
                        device.adapter_state = {}
                        # The same rules, on the ORM row's instrumented attributes.
                        record_sign_of_life(cast(DeviceState, device), (beat,), now, retained=False, rules=rules)
                    await session.flush()
                return cpu() - started

        def heartbeats(copies: bool) -> Callable[[], Awaitable[list[float]]]:
            async def run() -> list[float]:
                spent = [await batch(copies) for _ in range(batches)]
                return [sum(spent) / (batches * batch_size) * 1e6]

            return run

        measured = await alternate(runs, heartbeats(True), heartbeats(False))
    compare(
        "heartbeat: last seen, online, battery, signal, review time",
        measured,
        Variants("DeviceState copies, one UPDATE per batch", "ORM attributes set, then flush (baseline)"),
        "CPU µs/msg",
    )


# -- routes ----------------------------------------------------------------------------------


def native_fleet(devices: int) -> list[tuple[str, DeviceProfile]]:
    """Every device a native button on its default topic ``callwatch/<id>``: two filters in all."""
    return [("native", DeviceProfile(f"btn-{n:05d}", "button", f"callwatch/btn-{n:05d}")) for n in range(devices)]


def mixed_fleet(devices: int) -> list[tuple[str, DeviceProfile]]:
    """Several families under several prefixes: native buttons in 50 buildings, Zigbee buttons
    behind 20 bridges, Shelly buttons, and OwnTracks phones (one MQTT user each, so one filter each)."""
    profiles: list[tuple[str, DeviceProfile]] = []
    for n in range(devices):
        family = n % 10
        if family < 5:
            profile = ("native", DeviceProfile(f"d{n}", "button", f"site-{n % 50}/btn-{n}"))
        elif family < 7:
            profile = ("zigbee2mqtt", DeviceProfile(f"d{n}", "button", f"zigbee2mqtt-{n % 20}/button_{n}"))
        elif family < 8:
            profile = ("shelly", DeviceProfile(f"d{n}", "button", f"shellies/shellybutton1-{n:06X}"))
        else:
            profile = ("owntracks", DeviceProfile(f"d{n}", "gps_phone", f"owntracks/user{n}/phone"))
        profiles.append(profile)
    return profiles


def traffic(routes: Routes, profiles: list[tuple[str, DeviceProfile]], count: int) -> list[str]:
    """The message topics of ``count`` random devices of the fleet (the topic each publishes events on)."""
    chooser = random.Random(7)
    suffixes = {"native": "/event", "zigbee2mqtt": "", "shelly": "/input_event/0", "owntracks": ""}
    topics = [profile.topic + suffixes[protocol] for protocol, profile in chooser.sample(profiles, k=count)]
    for topic in topics[:20]:
        assert routes.matching(topic), f"the bench's topic {topic} matches no filter"
    return topics


async def part_routes(runs: int, devices: int, lookups: int, short: bool) -> None:
    header(
        "routes",
        f"which adapters may read a message's topic, {devices:,} devices; CPU µs of the loop's thread per "
        f"message, median of {runs} runs [lowest-highest]. Remembered: {lookups:,} messages from the devices "
        "below, each topic already seen once. Matched: each of those devices' topics once",
    )
    fleets = (
        ("native buttons on their default topics", native_fleet(devices), 2_000),
        ("mixed families and prefixes", mixed_fleet(devices), 15 if short else 30),
    )
    for name, profiles, speakers in fleets:
        routes = Routes.for_devices(profiles)
        topics = traffic(routes, profiles, speakers)
        for topic in topics:
            routes.adapters_for(topic)  # each device has spoken before: its topic is remembered
        messages = (topics * (lookups // len(topics) + 1))[:lookups]

        def lookup(
            cached: bool, routes: Routes = routes, topics: list[str] = topics, messages: list[str] = messages
        ) -> Callable[[], Awaitable[list[float]]]:
            async def run() -> list[float]:
                find, asked = (routes.adapters_for, messages) if cached else (routes.matching, topics)
                started = cpu()
                for topic in asked:
                    find(topic)
                return [(cpu() - started) / len(asked) * 1e6]

            return run

        measured = await alternate(runs, lookup(True), lookup(False))
        filters = sum(len(family) for family in routes.filters.values())
        families = f"{len(routes.filters)} famil{'y' if len(routes.filters) == 1 else 'ies'}"
        compare(
            f"{name}: {filters:,} filters, {families}, {speakers:,} devices speaking",
            measured,
            Variants("adapters_for, remembered per topic", "every filter matched each time (baseline)"),
            "CPU µs/msg",
            digits=2,
        )


# -- residents -------------------------------------------------------------------------------


@asynccontextmanager
async def nothing_at_hand(session: AsyncSession, resident_ids: Collection[str]) -> AsyncIterator[Sequence[Resident]]:
    """The baseline for ``residents_at_hand``: nothing brought in, every lookup on its own."""
    yield ()


def sos_batch(size: int, presses: int, at: datetime) -> list[DeviceMessage]:
    """``presses`` SOS from distinct devices among heartbeats from the others."""
    messages = []
    for index in range(size):
        body: dict[str, object] = {"type": "heartbeat", "battery": 80}
        if index % (size // presses) == 0:
            body = {"type": "sos", "id": f"p-{index}"}
        messages.append(DeviceMessage(f"callwatch/btn-{index:05d}/event", json.dumps(body).encode(), False, at))
    return messages


def position_batch(size: int, share: float, at: datetime) -> list[DeviceMessage]:
    """Heartbeats, and a ``share`` of positions inside the residents' safe zones (a GPS device each)."""
    lat, lon = HOME
    messages = []
    every = round(1 / share) if share else size + 1
    for index in range(size):
        body: dict[str, object] = {"type": "heartbeat", "battery": 80}
        if index % every == 0:
            body = {"type": "location", "lat": lat + 0.0001 * (index % 9), "lon": lon, "acc": 10}
        messages.append(DeviceMessage(f"callwatch/btn-{index:05d}/event", json.dumps(body).encode(), False, at))
    return messages


async def part_residents(url: str, runs: int, batch_size: int, short: bool) -> None:
    header(
        "residents",
        f"a batch of {batch_size} messages from distinct devices through MessageProcessor.process, in a write "
        "transaction (rolled back); statements, and CPU ms of the loop's thread per batch, median of "
        f"{runs} runs [lowest-highest]",
    )
    metrics = Metrics()
    style = MessageStyle(ZoneInfo("Asia/Shanghai"), "https://maps.example/?q={lat},{lon}")
    actions = AlertActions(Escalation(style, metrics), metrics)
    rules = SupervisionRules()
    routes = Routes.for_devices(native_fleet(batch_size))
    processor = MessageProcessor(DeviceEventHandler(actions), metrics, routes, rules)
    async with engines(url) as (inline, _):
        sessions = sessions_of(inline)
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(inline.sync_engine, "before_cursor_execute", count)
        names = vars(processing)  # the processor module's own names
        at = datetime.now(UTC).replace(microsecond=0)
        mixes = {
            f"{batch_size // 10} SOS among heartbeats": sos_batch(batch_size, batch_size // 10, at),
            "30 % positions in safe zones, 70 % heartbeats": position_batch(batch_size, 0.3, at),
        }
        if not short:
            mixes["positions in safe zones only"] = position_batch(batch_size, 1.0, at)
        for name, messages in mixes.items():

            def batch(prefetch: bool, messages: list[DeviceMessage] = messages) -> Callable[[], Awaitable[list[float]]]:
                async def run() -> list[float]:
                    nonlocal statements
                    # The processor's own module-level name, swapped for the baseline's runs only.
                    names["residents_at_hand"] = residents_at_hand if prefetch else nothing_at_hand
                    try:
                        async with rolled_back(sessions) as session:
                            statements = 0
                            started = cpu()
                            await processor.process(session, messages, Effects())
                            return [float(statements), (cpu() - started) * 1e3]
                    finally:
                        names["residents_at_hand"] = residents_at_hand

                return run

            measured = await alternate(runs, batch(True), batch(False))
            variants = Variants("residents prefetched, held for the handler", "not prefetched (baseline)")
            compare(f"{name}: statements per batch", measured, variants, "statements", digits=0)
            compare(f"{name}: time per batch", measured, variants, "CPU ms/batch", figure=1, digits=2)


# -- main ------------------------------------------------------------------------------------


async def main(parts: Sequence[str], runs: int, short: bool) -> int:
    print(f"bench.tuning: {', '.join(parts)}{' (short)' if short else ''}, {runs} runs of each variant")
    print(f"machine: {machine()}")
    print(f"load average before: {load_average()}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="callwatch-tuning-") as scratch:
        url = await prepare_database(Path(scratch), DEVICES_IN_DATABASE)
        for part in parts:
            part_began = time.monotonic()
            if part == "sqlite":
                await part_sqlite(url, runs, selects=200 if short else 1000, inserts=100 if short else 200)
            elif part == "statements":
                await part_statements(url, runs, calls=100 if short else 1000)
            elif part == "device-state":
                await part_device_state(url, runs, batch_size=DEVICES_IN_DATABASE, batches=3 if short else 5)
            elif part == "routes":
                await part_routes(runs, devices=10_000, lookups=10_000, short=short)
            elif part == "residents":
                await part_residents(url, runs, batch_size=DEVICES_IN_DATABASE, short=short)
            print(f"  ({time.monotonic() - part_began:.0f} s)")
    print(f"\n{time.monotonic() - began:.0f} s in all; load average after: {load_average()}")
    return 0


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: other processes blur wall-clock figures."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    parser = benchmark_command(__doc__)
    parser.add_argument("part", nargs="?", default="all", choices=[*PARTS, "all"])
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of each variant (9; 6 with --short, the fewest a sign test can call beyond noise)",
    )
    parser.add_argument("--short", action="store_true", help="fewer statements and runs (for make bench-short)")
    arguments = parser.parse_args()
    chosen = PARTS if arguments.part == "all" else (arguments.part,)
    repeat = arguments.repeat or (6 if arguments.short else 9)
    sys.exit(asyncio.run(main(chosen, repeat, arguments.short)))
