"""Lines for people watching the demo: timestamped, coloured when the output is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

RESET = "\033[0m"
STYLES: dict[str, str] = {
    "story": "\033[1;36m",  # what the simulated residents do
    "raised": "\033[1;31m",
    "notified": "\033[33m",
    "escalated": "\033[35m",
    "tier_skipped": "\033[35m",
    "unanswered": "\033[1;41;37m",
    "acknowledged": "\033[1;32m",
    "resolved": "\033[32m",
    "cancelled": "\033[34m",
    "reply": "\033[36m",
    "info": "\033[1m",
    "quiet": "\033[2m",
}
#: alert log entries about SMS delivery reports: printed dimmed
QUIET_PREFIXES = ("sms_",)


class Printer:
    def __init__(self, stream: TextIO, *, colour: bool) -> None:
        self.stream = stream
        self.colour = colour

    @classmethod
    def for_stdout(cls) -> Printer:
        return cls(sys.stdout, colour=sys.stdout.isatty())

    def line(self, text: str, style: str = "") -> None:
        stamp = time.strftime("%H:%M:%S")
        if style.startswith(QUIET_PREFIXES):
            style = "quiet"
        code = STYLES.get(style, "") if self.colour else ""
        self.stream.write(f"{stamp}  {code}{text}{RESET if code else ''}\n")
        self.stream.flush()

    def story(self, text: str) -> None:
        self.line(f"▶ {text}", "story")

    def info(self, text: str) -> None:
        self.line(text, "info")
