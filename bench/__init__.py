"""Benchmarks that print figures (run with `python -m bench.<name>`); not part of the test suite."""
