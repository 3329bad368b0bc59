"""`python -m monitor ...` is `callwatch ...`."""

from monitor.runtime.cli import main

main()
