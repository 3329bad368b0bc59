"""Running the monitor: the composition root (``service``), the ``callwatch`` command line, the
watchdog and duty alarm, systemd notification and logging."""
