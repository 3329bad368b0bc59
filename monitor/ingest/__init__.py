"""MQTT ingest: receive device messages, commit what they cause, then acknowledge them."""
