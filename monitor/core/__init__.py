"""The plumbing every part of the monitor shares: the clock, deadlines, stopping loops, heartbeats,
health and metrics, user errors, and what a committed transaction asks for next (``effects``,
with the one helper that commits and then carries it out). Imports nothing above it."""
