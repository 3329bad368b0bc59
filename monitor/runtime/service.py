"""The monitor: every part wired together, as one async context manager.

    async with Monitor(settings) as monitor:
        await monitor.wait_until(stop)

Entering migrates the database, imports the configured directory, opens the SMS gateway
and, on PostgreSQL, the feed of alert changes to and from other monitors, and starts the
web server and the loops (MQTT ingest, escalation timers, device and check-in supervision,
SMS outbox, retention, and the watchdog over ingest and escalation). Leaving finishes the
message batch in hand, disconnects cleanly and closes everything it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Collection
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo

import aiomqtt

from monitor.actions.alert_actions import AlertActions
from monitor.actions.follow_through import FollowThrough
from monitor.actions.replies import ReplyHandler
from monitor.config.settings import Settings
from monitor.core.clock import Clock, SystemClock
from monitor.core.effects import DeviceFeedback, Effects
from monitor.core.health import Health
from monitor.core.heartbeat import Heartbeat
from monitor.core.loop_stop import LoopStop
from monitor.core.metrics import Metrics
from monitor.directory.file import load_directory
from monitor.directory.sync import import_directory
from monitor.escalation.engine import Escalation
from monitor.escalation.timer import EscalationTimer
from monitor.ingest.consumer import MqttIngest
from monitor.ingest.device_events import DeviceEventHandler
from monitor.ingest.failover import SessionFailover
from monitor.ingest.processor import MessageProcessor
from monitor.ingest.routes import Routes
from monitor.live.changes import AlertChanges
from monitor.live.postgres import PostgresAlertFeed
from monitor.notify.channel import Mailbox
from monitor.notify.channels import channel_names, configured_channels
from monitor.notify.delivery import delivery_report_writer
from monitor.notify.outbox import Outbox
from monitor.notify.requests import SMS, VOICE
from monitor.notify.texts import MessageStyle
from monitor.runtime.duty_alarm import DutyAlarm
from monitor.runtime.gone_monitors import GoneMonitors
from monitor.runtime.mailboxes import Mailboxes
from monitor.runtime.sd_notify import SystemdNotifier
from monitor.runtime.watchdog import EXIT_STALLED, LastResort, Watchdog
from monitor.store.database import Database
from monitor.store.group_commit import GroupCommit
from monitor.store.migrate import upgrade
from monitor.watch.retention import Retention
from monitor.watch.rules import SupervisionRules
from monitor.watch.supervision import Supervision
from monitor.web.app import create_app
from monitor.web.context import WebContext
from monitor.web.server import WebServer

log = logging.getLogger("callwatch.monitor")

FEEDBACK_PUBLISH_TIMEOUT_S = 5.0
STOP_INGEST_TIMEOUT_S = 10.0
STOP_LOOPS_TIMEOUT_S = 10.0


class Monitor:
    def __init__(
        self,
        settings: Settings,
        *,
        config_path: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.config_path = config_path
        self.clock = clock or SystemClock()
        self.instance_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.metrics = Metrics()
        self.health = Health(self.clock)
        self.changes = AlertChanges()
        self.database = Database(
            settings.database.url, instance_id=self.instance_id, dead_peer_after_s=settings.mqtt.gone_after_s
        )
        self._exit_stack = contextlib.AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop_stop = LoopStop()
        self.web: WebServer | None = None
        #: alert changes to and from the other monitors on the same PostgreSQL (None on SQLite)
        self.feed: PostgresAlertFeed | None = None
        self.notifier = SystemdNotifier()

    async def __aenter__(self) -> Monitor:
        try:
            await self._start()
        except BaseException:
            await self._exit_stack.aclose()
            raise
        return self

    async def _start(self) -> None:
        stack = self._exit_stack
        # First in, last out: it can still end the process if closing anything below hangs.
        last_resort = stack.enter_context(
            LastResort(stall_after_s=self.settings.service.watchdog_stall_s, exit_code=EXIT_STALLED)
        )
        await stack.enter_async_context(self.database)
        await upgrade(self.database)
        if not self.database.is_sqlite:
            self.feed = await stack.enter_async_context(PostgresAlertFeed(self.settings.database.url, self.changes))
        if self.settings.directory.file:
            directory = load_directory(Path(self.settings.directory.file))
            summary = await import_directory(self.database, directory, tell_retired=self.settings.sms.tell_retired)
            log.info("directory %s imported: %s", self.settings.directory.file, "; ".join(summary.lines()))
        channels = configured_channels(self.settings)
        for channel in channels:
            await stack.enter_async_context(channel)
        style = message_style(self.settings)
        names = channel_names(channels)
        staff_channels = duty_channels(self.settings, names)
        self.escalation = escalation_for(self.settings, self.metrics, names)
        self.actions = AlertActions(self.escalation, self.metrics)
        self.timer = EscalationTimer(
            self.escalation,
            self.database,
            self.clock,
            self.metrics,
            after_commit=self.after_commit,
            follow_up=FollowThrough(self.actions).step,
        )
        rules = SupervisionRules.from_settings(self.settings.supervision)
        self.supervision = Supervision(
            self.database, self.clock, self.actions, style, rules, after_commit=self.after_commit
        )
        self.processor = MessageProcessor(DeviceEventHandler(self.actions), self.metrics, Routes(), rules)
        self.replies = ReplyHandler(self.actions)
        self.outbox = Outbox(
            self.database,
            channels,
            self.clock,
            self.metrics,
            self.health,
            instance_id=self.instance_id,
            lease_s=self.settings.sms.send_lease_s,
            after_commit=self.after_commit,
            on_unreachable=self.escalation.on_unreachable,
            phone_limit=self.settings.sms.phone_limit_15min,
            rate_per_s=self.settings.sms.send_rate_per_s,
            give_up_after_s=self.settings.sms.give_up_after_s,
            gone_after_s=self.settings.mqtt.gone_after_s,
            channel_rates={VOICE: self.settings.voice.calls_per_s},
        )
        await self.outbox.add_providers()
        ingest_beat, escalation_beat = Heartbeat("ingest"), Heartbeat("escalation")
        self.ingest = MqttIngest(
            self.settings.mqtt,
            self.database,
            self.processor,
            self.after_commit,
            self.metrics,
            self.health,
            self.clock,
            ingest_beat,
            self.config_path,
        )
        #: several monitors: this one noted alive, dead ones' broker sessions drained (None on SQLite)
        self.failover: SessionFailover | None = None
        if not self.database.is_sqlite:
            self.failover = SessionFailover(
                self.settings.mqtt,
                self.database,
                self.clock,
                self.health,
                instance_id=self.instance_id,
                commit=self.ingest.commit,
            )
            await self.failover.note_alive()
        duty_alarm = DutyAlarm(
            self.database,
            self.outbox,
            self.clock,
            instance_id=self.instance_id,
            after_commit=self.after_commit,
            channels=staff_channels,
        )
        watchdog = Watchdog(
            [ingest_beat, escalation_beat],
            stall_after_s=self.settings.service.watchdog_stall_s,
            health=self.health,
            alarm=duty_alarm.raise_alarm,
            notifier=self.notifier,
            last_resort=last_resort,
        )
        retention = Retention(self.database, self.clock, self.settings.retention)
        delivery_reports = GroupCommit(
            self.database,
            delivery_report_writer(self.escalation.on_unreachable),
            after_commit=self.after_commit,
            bookkeeping=True,
        )
        mailboxes = [channel for channel in channels if isinstance(channel, Mailbox)]
        context = WebContext(
            settings=self.settings,
            database=self.database,
            replies=self.replies,
            actions=self.actions,
            after_commit=self.after_commit,
            health=self.health,
            metrics=self.metrics,
            clock=self.clock,
            changes=self.changes,
            channels=channels,
            delivery_reports=delivery_reports,
        )
        self.web = await stack.enter_async_context(
            WebServer(
                create_app(context),
                self.settings.web.host,
                self.settings.web.port,
                trusted_proxies=self.settings.web.trusted_proxies,
            )
        )
        stack.push_async_callback(self._stop_loops)
        loops = [
            (self.outbox.run(self._loop_stop), "outbox"),
            (self.timer.run(escalation_beat, self._loop_stop, self.outbox.claimed_answered), "escalation"),
            (self.supervision.run(self._loop_stop), "supervision"),
            (retention.run(self._loop_stop), "retention"),
            (duty_alarm.run(self._loop_stop), "duty-alarm"),
        ]
        if mailboxes:
            fetching = Mailboxes(
                mailboxes,
                database=self.database,
                after_commit=self.after_commit,
                replies=self.replies,
                delivery_reports=delivery_reports,
                clock=self.clock,
                metrics=self.metrics,
            )
            loops.append((fetching.run(self._loop_stop), "mailboxes"))
        if self.settings.service.watchdog_stall_s:
            loops.append((watchdog.run(self._loop_stop), "watchdog"))
        if self.failover is not None:
            loops.append((self.failover.run(self._loop_stop), "failover"))
            gone_monitors = GoneMonitors(self.settings.mqtt, self.database, self.clock, duty_alarm)
            loops.append((gone_monitors.run(self._loop_stop), "gone-monitors"))
        loops.append((self.ingest.run(), "mqtt-ingest"))  # last: _stop_loops stops it first
        self._tasks = [asyncio.create_task(loop, name=name) for loop, name in loops]
        self.notifier.ready()
        log.info(
            "callwatch monitor %s running: web on %s:%s, broker %s:%s, database %s",
            self.instance_id,
            self.settings.web.host,
            self.web.port,
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            self.database.engine.url.render_as_string(hide_password=True),
        )

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._exit_stack.aclose()

    async def _stop_loops(self) -> None:
        self.notifier.stopping()
        ingest_task, others = self._tasks[-1], self._tasks[:-1]
        self.ingest.stop()
        try:
            await asyncio.wait_for(ingest_task, timeout=STOP_INGEST_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "ingest did not stop within %.0f s; its unacknowledged messages will come again", STOP_INGEST_TIMEOUT_S
            )
        # Loops end between transactions rather than being cancelled inside one.
        self._loop_stop.request()
        _, late = await asyncio.wait(others, timeout=STOP_LOOPS_TIMEOUT_S)
        for task in late:
            log.warning("the %s loop did not stop within %.0f s; cancelling it", task.get_name(), STOP_LOOPS_TIMEOUT_S)
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.outbox.drain(within_s=STOP_INGEST_TIMEOUT_S)
        try:
            await self.outbox.leave()
        except Exception as exc:  # the others take the share once this monitor's last note is old
            log.warning("this monitor's share of the SMS rate not handed back now: %s", exc)
        self._tasks = []

    async def wait_until(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set or a loop ends unexpectedly (which is then raised)."""
        stopping = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait({stopping, *self._tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        for task in done:
            if task is not stopping:
                task.result()
                raise RuntimeError(f"the {task.get_name()} loop stopped unexpectedly")

    async def after_commit(self, effects: Effects) -> None:
        """Carry out what a committed transaction asked for (see ``monitor.core.effects``)."""
        if effects.to_send:
            self.outbox.send_claimed(effects.to_send)
            # Let the requests go out before the rest: someone may be lying on a floor.
            await asyncio.sleep(0)
        if effects.notifications_waiting:
            self.outbox.wake()
        if effects.next_step_at is not None:
            self.timer.timer_set(effects.next_step_at)
        if effects.changed_alert_ids:
            self.changes.publish(effects.changed_alert_ids)
            if self.feed is not None:
                self.feed.announce(effects.changed_alert_ids)
        for feedback in effects.feedback:
            await self._publish_feedback(feedback)

    async def _publish_feedback(self, feedback: DeviceFeedback) -> None:
        client = self.ingest.client
        if client is None:
            log.warning("feedback to %s not sent: not connected to the broker", feedback.topic)
            return
        try:
            await asyncio.wait_for(
                client.publish(feedback.topic, json.dumps(feedback.payload, ensure_ascii=False), qos=1),
                timeout=FEEDBACK_PUBLISH_TIMEOUT_S,
            )
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("feedback to %s not sent: %s", feedback.topic, exc)


def message_style(settings: Settings) -> MessageStyle:
    return MessageStyle(
        ZoneInfo(settings.service.timezone),
        settings.service.map_url_template,
        link_base=f"{settings.web.public_url}/r/" if settings.sms.any_links else None,
    )


def duty_channels(settings: Settings, channels: Collection[str]) -> tuple[str, ...]:
    """How duty staff are reached: called as well as texted when ``[voice] duty_calls`` and voice is there."""
    return (SMS, VOICE) if settings.voice.duty_calls and VOICE in channels else (SMS,)


def escalation_for(settings: Settings, metrics: Metrics, channels: Collection[str]) -> Escalation:
    """The escalation engine on these channels (by name), as a monitor and ``callwatch import --reassign`` use it."""
    return Escalation(
        message_style(settings), metrics, channels=channels, staff_channels=duty_channels(settings, channels)
    )
