"""`python -m monitor ...` is `callwatch ...`."""

from monitor.cli import main

main()
