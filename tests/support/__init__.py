"""Test support: real processes (Mosquitto, the monitor) and real databases for the suites."""
