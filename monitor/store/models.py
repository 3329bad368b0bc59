"""Database tables. Alembic migrations in ``monitor/migrations`` create and change them.

Times are stored as UTC and always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012 - SQLAlchemy's API


class Organisation(Base):
    """A street office or community service centre: owns areas, policies, volunteers and console
    accounts; one service serves several (``monitor.users.scope``)."""

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Area(Base):
    __tablename__ = "areas"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    policy_id: Mapped[str | None] = mapped_column(String(64))
    #: false: retired, kept for the record; nobody may be in it (``monitor.directory.retire``)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: the organisation whose staff see and manage it; NULL: only service-wide staff manage it
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: IANA zone of the resident's day; NULL means the service's [service] timezone
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: daily check-in deadline "HH:MM" local time; NULL when no check-in is expected
    checkin_by: Mapped[str | None] = mapped_column(String(5))
    last_checkin_at: Mapped[datetime | None]
    #: when supervision next judges the check-in (a deadline); NULL until it first looks
    checkin_due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: safe zone: a circle (centre, radius) and/or the device's own region name
    safe_lat: Mapped[float | None] = mapped_column(Float)
    safe_lon: Mapped[float | None] = mapped_column(Float)
    safe_radius_m: Mapped[float | None] = mapped_column(Float)
    safe_region: Mapped[str | None] = mapped_column(String(64))
    #: where the resident lives: the alert's position for "nearest first" when the device has none
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    #: she wants an SMS on her phone when someone takes her alert and when they set off
    sms_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    #: false: retired (``monitor.directory.retire``): kept for the record, no check-in, her devices retired too
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class FamilyContact(Base):
    """A resident's emergency contact: told about alerts, or asked to help, as the policy says."""

    __tablename__ = "family_contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    #: the order contacts are listed in
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(64), default="")
    #: not unique: a daughter may be the contact of both her parents
    phone: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("protocol", "ref"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    protocol: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(256))
    serial: Mapped[str | None] = mapped_column(String(128))
    #: what the adapter's ``locate`` returns for this device's messages
    ref: Mapped[str] = mapped_column(String(256))
    heartbeat_s: Mapped[int] = mapped_column(Integer, default=300)
    action_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    adapter_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    online: Mapped[bool | None] = mapped_column(Boolean)
    last_seen_at: Mapped[datetime | None]
    battery: Mapped[int | None] = mapped_column(Integer)
    signal: Mapped[int | None] = mapped_column(Integer)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_accuracy_m: Mapped[float | None] = mapped_column(Float)
    last_fix_at: Mapped[datetime | None]
    #: since when the device is offline (Last Will, availability, or heartbeats missed)
    offline_at: Mapped[datetime | None]
    #: an alert covers the current offline episode (its own or its area's outage)
    offline_noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: battery low by the hysteresis rule, and whether a low_battery alert covers it
    battery_low: Mapped[bool] = mapped_column(Boolean, default=False)
    battery_noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: outside the resident's safe zone at the last position; NULL before the first one
    outside_zone: Mapped[bool | None] = mapped_column(Boolean)
    #: when supervision next looks at this device; NULL when nothing is pending or due
    review_at: Mapped[datetime | None] = mapped_column(index=True)
    #: false: retired (handed back): not supervised, no broker account, its messages refused as unknown
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Volunteer(Base):
    __tablename__ = "volunteers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    role: Mapped[str] = mapped_column(String(16), default="volunteer")
    #: False once the volunteer is no longer in the directory (kept for the record)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: IANA zone of the on-call windows; NULL means the service's [service] timezone
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: weekly on-call windows and dated exceptions (monitor.oncall.schedule); empty: always on call
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    #: the volunteer agreed that their phone's position (a VolunteerPhone) is used to find the nearest
    share_location: Mapped[bool] = mapped_column(Boolean, default=False)
    #: False: never called, tiers that call reach them by SMS only (monitor.oncall.calls)
    voice: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: "22:00-07:00": called only inside these local hours; NULL: whenever a tier calls
    voice_hours: Mapped[str | None] = mapped_column(String(11))
    #: the organisation whose administrators manage them (they may serve other organisations' areas
    #: too); a staff phone's organisation is whose UNANSWERED alarms it gets
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)


class VolunteerPhone(Base):
    """A volunteer's own phone reporting where they are (OwnTracks), used only with their consent."""

    __tablename__ = "volunteer_phones"
    __table_args__ = (UniqueConstraint("protocol", "ref"),)
    #: the directory's device id
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), index=True)
    protocol: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(256))
    serial: Mapped[str | None] = mapped_column(String(128))
    ref: Mapped[str] = mapped_column(String(256))
    adapter_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_accuracy_m: Mapped[float | None] = mapped_column(Float)
    last_fix_at: Mapped[datetime | None]


class VolunteerAvailability(Base):
    """What a volunteer said by SMS about being available (OFF, ON, PAUSE), on top of their schedule."""

    __tablename__ = "volunteer_availability"
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    #: replied OFF at this time: not asked until they reply ON
    off_since: Mapped[datetime | None]
    #: replied PAUSE: not asked until then
    paused_until: Mapped[datetime | None]
    changed_at: Mapped[datetime]


class SmsOptOut(Base):
    """A phone that replied STOP (or TD): sent nothing until it replies START."""

    __tablename__ = "sms_opt_outs"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out_at: Mapped[datetime]
    #: the reply that did it
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_sms.id"))


class VolunteerArea(Base):
    __tablename__ = "volunteer_areas"
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("areas.id"), primary_key=True, index=True)


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: [{"notify": [...], "ack_timeout_s": 60}, ...]
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    #: alert kinds this policy escalates wherever they happen, overriding the area's policy
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: told when an alert is raised and when it ends, never asked: ["family"]
    inform: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: follow-through: seconds from taking an alert to arriving, and from arriving to resolving it
    #: (NULL: the directory's defaults, ``monitor.directory.model.Policy``)
    arrive_within_s: Mapped[int | None] = mapped_column(Integer)
    resolve_within_s: Mapped[int | None] = mapped_column(Integer)
    #: how close a shared phone position counts as arrived (NULL: the default)
    arrival_radius_m: Mapped[int | None] = mapped_column(Integer)
    #: false: retired, kept for the record; no area follows it, nor any kind (``monitor.directory.retire``)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: the organisation whose administrators manage it; NULL: service-wide
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_due", "state", "next_escalation_at"),
        Index("ix_alerts_resident_state", "resident_id", "state"),
        # who took how many alerts lately, for the escalation log's load figures (monitor.oncall.fairness)
        Index("ix_alerts_acknowledged_by", "acknowledged_by", "acknowledged_at"),
        Index("ix_alerts_follow_up", "state", "follow_up_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("residents.id"))
    area_id: Mapped[str | None] = mapped_column(ForeignKey("areas.id"))
    #: the device event that raised it, for the record
    event_id: Mapped[str | None] = mapped_column(String(128))
    raised_at: Mapped[datetime]
    #: when the alert was first answered (the answering figures); a hand-back does not undo it
    acknowledged_at: Mapped[datetime | None]
    #: who holds it now (taken, on the way or there); NULL while it is open
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    #: follow-through (``monitor.alerts.lifecycle``): when the present holder took it, set off
    #: (and the time they gave), arrived (and who)
    taken_at: Mapped[datetime | None]
    en_route_at: Mapped[datetime | None]
    eta: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    on_site_by: Mapped[str | None] = mapped_column(String(100))
    #: nobody arrived (or resolved it) in time: duty staff see it flagged until it is resolved
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a taken alert's next follow-through step ("remind_arrival", "arrival_due", ...) and when
    follow_up: Mapped[str | None] = mapped_column(String(32))
    follow_up_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None]
    policy_id: Mapped[str | None] = mapped_column(String(64))
    #: escalation position: the tier last notified (0-based) within round ``round``
    tier: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: when the next escalation step is due; NULL when nothing more is scheduled
    next_escalation_at: Mapped[datetime | None]
    unanswered: Mapped[bool] = mapped_column(Boolean, default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None]
    #: device-health alerts: when duty staff got it in a batched SMS, and the area in its daily digest
    staff_told_at: Mapped[datetime | None]
    digest_told_at: Mapped[datetime | None]


class AlertDevice(Base):
    """The devices an alert is about when it is about several (an area outage)."""

    __tablename__ = "alert_devices"
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True, index=True)


class AlertEvent(Base):
    """The audit log: every state change, notification, delivery report and reply."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    #: who did it: "device:<id>", "volunteer:<id>", "user:<name>", "system"
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    #: indexed: the retention job asks which raw messages an alert's record still points to
    device_message_id: Mapped[int | None] = mapped_column(ForeignKey("device_messages.id"), index=True)


class Notification(Base):
    """One message to one person on one channel (an SMS, ...).

    ``dedupe_key`` makes each (alert, purpose, tier, round, person, channel) unique.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "status", "priority", "not_before"),
        # a phone's SMS in the last 15 minutes, for its limit (monitor.notify.sms.phone_limit)
        Index("ix_notifications_phone_claimed", "phone", "claimed_at"),
        # how many alerts a volunteer was asked about lately (monitor.oncall.fairness)
        Index("ix_notifications_volunteer_created", "volunteer_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteers.id"))
    #: the person's address on the channel (a phone number for "sms")
    phone: Mapped[str] = mapped_column(String(32), index=True)
    #: how the person is reached: "sms" (monitor.notify.channel)
    channel: Mapped[str] = mapped_column(String(16), default="sms", server_default="sms")
    purpose: Mapped[str] = mapped_column(String(32))
    #: lower sends first: SOS before confirmations before health digests
    priority: Mapped[int] = mapped_column(Integer, default=5)
    tier: Mapped[int | None] = mapped_column(Integer)
    round: Mapped[int | None] = mapped_column(Integer)
    #: the message as free text, and as the template it instantiates with its parameters (monitor.notify.texts);
    #: once sent, as the provider that carried it was given it
    body: Mapped[str] = mapped_column(Text)
    #: the same message without its responder link, for a provider that carries no links (None: it has none)
    body_without_link: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the provider (``[sms] providers``) that carried it, or that its current attempt went to;
    #: None: the channel's first provider (monitor.notify.outbox)
    provider: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    #: for a row the phone's limit held back: the digest it went out in
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))


class DeliveryReport(Base):
    """Every delivery status callback, kept even when it arrives before we know the message."""

    __tablename__ = "delivery_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime]
    applied: Mapped[bool] = mapped_column(Boolean, default=False)


class InboundSms(Base):
    """Every reply received on the webhook, whatever became of it."""

    __tablename__ = "inbound_sms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime]
    from_phone: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteers.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")


class DeviceMessage(Base):
    """Every MQTT message received, and what became of it."""

    __tablename__ = "device_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    topic: Mapped[str] = mapped_column(String(512))
    #: the payload, cut at the size limit (``payload_size`` keeps the real size)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)
    retained: Mapped[bool] = mapped_column(Boolean)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    #: accepted | duplicate | rejected
    outcome: Mapped[str] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    #: event types found, or the rejection detail
    detail: Mapped[str] = mapped_column(Text, default="")


class SeenDeviceEvent(Base):
    """Device event ids already applied, so a redelivered event changes nothing."""

    __tablename__ = "seen_device_events"
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime]


class MonitorInstance(Base):
    """A monitor running on this database and when it last said so: the sender's rate is shared
    among the living, a survivor drains the broker session of one that died, and the console
    shows them all (a dead one's row stays until it comes back, or a week)."""

    __tablename__ = "monitor_instances"
    instance_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime]
    #: its MQTT client id: the broker session that holds its share of the device messages
    mqtt_client_id: Mapped[str | None] = mapped_column(String(128))
    #: the monitor draining that session since this one stopped noting itself alive (or that drained it)
    adopted_by: Mapped[str | None] = mapped_column(String(128))
    #: it stopped cleanly (a planned stop: no duty alarm)
    stopped_at: Mapped[datetime | None]
    #: its session was drained by ``adopted_by``: nothing of it is left to take over
    drained_at: Mapped[datetime | None]
    #: duty staff were told it is gone (monitor.runtime.gone_monitors), by the monitor ``alarmed_by``
    alarmed_at: Mapped[datetime | None]
    alarmed_by: Mapped[str | None] = mapped_column(String(128))


class ProviderState(Base):
    """Whether a channel's provider is up, as every monitor on this database sees it: a message
    goes out through the first provider of its channel that is up (monitor.notify.provider_watch)."""

    __tablename__ = "provider_states"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    up: Mapped[bool] = mapped_column(Boolean)
    #: since when it has been up (or down)
    since: Mapped[datetime]
    #: the provider's failures in a row (a number's own refusals do not count)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]


class ServiceMeta(Base):
    """Small service-wide facts, e.g. the directory revision monitors watch for changes."""

    __tablename__ = "service_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# -- the duty console: accounts, sessions, API tokens, sign-in attempts, the console's
# audit log and residents' care cards. Migration ``0002_console`` creates them.
#
# Session ids and API tokens are stored only as SHA-256 digests, so a copy of the database
# does not let anyone sign in.


class ConsoleUser(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the sign-in name, also the audit log's "user:<name>"
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: argon2id, in the PHC string format argon2-cffi writes
    password_hash: Mapped[str] = mapped_column(String(255))
    #: admin | duty | viewer (``monitor.users.identity.Role``)
    role: Mapped[str] = mapped_column(String(16))
    #: the scope (``monitor.users.scope``): an organisation's areas, else these area ids, else
    #: (both NULL) the whole service
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    areas: Mapped[list[str] | None] = mapped_column(JSON)
    #: the interface language: zh | en
    language: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class ConsoleSession(Base):
    __tablename__ = "console_sessions"
    #: SHA-256 of the cookie's secret
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: SHA-256 of the token
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: the token's first characters, to tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempt(Base):
    """Every sign-in attempt: the record, and what the rate limit counts."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_name_at", "name", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    #: the SHA-256 of the browser's known-browser cookie when that browser had signed in as ``name``
    #: before (its tries are counted apart from strangers'), else None
    browser: Mapped[str | None] = mapped_column(String(64))
    #: False from the moment the try is taken (before the password is checked) until it succeeds
    succeeded: Mapped[bool] = mapped_column(Boolean)


class KnownBrowser(Base):
    """A browser that signed in as a user before: its cookie's SHA-256 (never the secret).

    Sign-in failures by strangers do not hold such a browser back (``monitor.users.throttle``).
    """

    __tablename__ = "known_browsers"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True, index=True)
    first_signed_in_at: Mapped[datetime]
    last_signed_in_at: Mapped[datetime]


class ConsoleAudit(Base):
    """What console users did outside any one alert (directory edits, accounts, camera views).

    Actions on an alert go to that alert's ``alert_events`` instead, beside everything else
    that happened to it.
    """

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    #: "user:<name>"
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    #: what was acted on: "resident:r-0001", "user:bob"
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")


class CameraLink(Base):
    """A one-use, short-lived link to a resident's camera, made for one console user and one
    alert; the camera's address itself is never handed out (``monitor.users.camera_links``)."""

    __tablename__ = "camera_links"
    #: SHA-256 of the link's secret
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    #: "user:<name>", as in the audit log
    actor: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ResidentCard(Base):
    """What duty staff need about a resident beyond the directory: a camera. (Her emergency
    contacts, once kept here, are rows of ``family_contacts`` since migration 0004_oncall.)"""

    __tablename__ = "resident_cards"
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    camera_url: Mapped[str | None] = mapped_column(Text)
    #: the resident (or their guardian) agreed that duty staff may look at the camera
    camera_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the key safe's code: shown on the responder page only to whoever took her alert, never in SMS
    key_safe_code: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class ResponderLink(Base):
    """A link to the responder page (``/r/<token>``) for one person about one alert: random and
    unguessable, made when the person is first asked and sent in their SMS; dead an hour after
    the alert ended (``monitor.notify.responder_links``)."""

    __tablename__ = "responder_links"
    __table_args__ = (UniqueConstraint("alert_id", "phone"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteers.id"))
    #: what the page's forms must send back (a form from another site cannot)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
