"""Prometheus metrics, one registry per monitor (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages_received = Counter(
            "callwatch_mqtt_messages_received", "MQTT messages received from devices", registry=self.registry
        )
        self.messages_rejected = Counter(
            "callwatch_mqtt_messages_rejected",
            "MQTT messages that could not be used, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.messages_duplicate = Counter(
            "callwatch_mqtt_messages_duplicate",
            "Device events received again (same event id) and ignored",
            registry=self.registry,
        )
        self.ingest_batch_size = Histogram(
            "callwatch_ingest_batch_size",
            "Messages committed per database transaction",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self.ingest_commit_seconds = Histogram(
            "callwatch_ingest_commit_seconds",
            "Time to process and commit one batch of messages",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.alerts_raised = Counter(
            "callwatch_alerts_raised", "Alerts raised, by kind", ["kind"], registry=self.registry
        )
        self.alerts_unanswered = Counter(
            "callwatch_alerts_unanswered", "Alerts that went through every tier unanswered", registry=self.registry
        )
        self.alerts_by_state = Gauge(
            "callwatch_alerts",
            "Alerts by state (read from the database at scrape time)",
            ["state"],
            registry=self.registry,
        )
        self.sms_sent = Counter("callwatch_sms_sent", "SMS accepted by the provider", registry=self.registry)
        self.notifications_sent = Counter(
            "callwatch_notifications_sent",
            "Notifications accepted by their channel's provider, by channel (SMS included)",
            ["channel"],
            registry=self.registry,
        )
        self.sms_failed = Counter(
            "callwatch_sms_failed",
            "SMS sends that failed, by kind and code",
            ["kind", "code"],
            registry=self.registry,
        )
        self.provider_up = Gauge(
            "callwatch_provider_up",
            "1 while a channel's provider is up (messages go out through the first that is up), 0 while down",
            ["channel", "provider"],
            registry=self.registry,
        )
        self.provider_since = Gauge(
            "callwatch_provider_state_since_seconds",
            "Since when (Unix time) a channel's provider has been up or down",
            ["channel", "provider"],
            registry=self.registry,
        )
        self.failovers = Counter(
            "callwatch_failovers",
            "Notifications a provider could not send, moved on to the channel's next provider",
            ["channel", "from_provider", "to_provider"],
            registry=self.registry,
        )
        self.sms_delivery = Counter(
            "callwatch_sms_delivery_reports",
            "Delivery reports received, by status",
            ["status"],
            registry=self.registry,
        )
        self.sms_replies = Counter(
            "callwatch_sms_replies", "Inbound SMS, by what became of them", ["outcome"], registry=self.registry
        )
        self.calls = Counter(
            "callwatch_calls",
            "Calls' progress reports, by outcome (ringing, answered, delivered, busy, no-answer, machine, ...)",
            ["outcome"],
            registry=self.registry,
        )
        self.call_keys = Counter(
            "callwatch_call_keys",
            "Keys pressed on calls and call requests refused, by what became of them",
            ["outcome"],
            registry=self.registry,
        )
        self.escalation_lag = Histogram(
            "callwatch_escalation_lag_seconds",
            "How late an escalation step ran after it was due",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.broker_connected = Gauge(
            "callwatch_broker_connected", "1 while connected to the MQTT broker", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
