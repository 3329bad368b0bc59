"""Test support: the suites' names for the harness's processes and databases (``simulator.harness``
launches Mosquitto, PostgreSQL and the monitor for the tests and the benchmarks alike), and what
only tests need on top (which databases to run on, feedback listening, benchmark campaigns as commands)."""
