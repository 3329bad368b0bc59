"""Alerts: the lifecycle state machine and how device events and replies change alerts."""
