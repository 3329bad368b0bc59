"""Tests of the SMS sandbox (simulator.sandbox) and callwatch-sim sandbox."""
