"""The callwatch monitor: MQTT ingest, alert lifecycle, escalation, SMS, web console, CLI."""
