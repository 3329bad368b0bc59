"""Launching a private deployment's processes: what the test suites and the benchmarks share.

An installer rehearsing a deployment, a test and a benchmark all need the same pieces, each
owned by a context manager that starts it, waits until it answers and stops it again:

- ``mosquitto`` — the one Mosquitto launcher (config file, start, wait until listening,
  SIGTERM, SIGKILL, SIGHUP, restart), configured as a plain private broker;
- ``shipped_broker`` — the same launcher on the shipped ``config/mosquitto.conf`` (TLS,
  accounts, ACL), only paths and ports changed; ``certificates`` makes its throwaway CA;
- ``postgres`` — fresh databases on a shared PostgreSQL server, and a private cluster to
  stop, freeze and thaw;
- ``monitor_process`` — `callwatch run` as a child process: start, wait until healthy,
  SIGKILL, SIGTERM, restart;
- ``deployment`` — a whole deployment in a folder (config, directory, broker, SMS sandbox)
  and its monitor, in-process or as a child process; ``secured`` points it at the shipped broker;
- ``firmware_fleet`` — devices publishing with real paho clients, remembering every PUBACK;
- ``ports`` and ``waiting`` — free ports, listening sockets, bounded waits.

Nothing here is imported by the monitor itself; ``cryptography`` (a development dependency)
is imported only when certificates are made.
"""
