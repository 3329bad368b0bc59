"""Whether the SMS provider works, as duty staff need to know within a minute.

Only failures that are the provider's (no connection, 5xx, 429, timeouts, our account
refused) count; a number that is invalid or a landline says nothing about the provider.
Two such failures in a row mark the provider down on /healthz and the console's banner.
When nothing was sent for a while, a cheap request checks it anyway, so an outage shows
before the next SOS needs the provider; while it is down the same check runs every
``CHECK_EVERY_S``, and when it answers again the waiting retries are brought forward.
"""

from __future__ import annotations

import asyncio

from monitor.core.health import Health
from monitor.notify.channel import SendFailure

#: provider failures in a row that mark it down
FAILURES_BEFORE_DOWN = 2
#: look at the provider after this long without a send (and this often while it is down)
CHECK_EVERY_S = 20.0


class ProviderWatch:
    def __init__(self, health: Health, channel: str, provider: str) -> None:
        self.health = health
        #: the health component it reports on: the channel's name ("sms")
        self.channel = channel
        self.provider = provider
        self._failures = 0
        self._last_heard = asyncio.get_running_loop().time()

    @property
    def down(self) -> bool:
        return self._failures >= FAILURES_BEFORE_DOWN

    def check_due(self) -> bool:
        return asyncio.get_running_loop().time() - self._last_heard >= CHECK_EVERY_S

    def sent(self) -> None:
        self._up(f"last SMS accepted by {self.provider}")

    def failed(self, failure: SendFailure) -> None:
        """A send or a check failed; whether the failure counts against the provider."""
        self._heard()
        if failure.about_recipient:
            return
        self._failures += 1
        if self.down:
            self.health.mark(
                self.channel,
                ok=False,
                detail=f"{self.provider}: {self._failures} requests failed in a row, last: {failure}"[:300],
            )

    def answered_check(self, *, retries_waiting: bool) -> None:
        """The provider answered a check. With retries waiting, their sends decide whether it is up
        (the API may answer while sending still fails); with none, the answer does."""
        if retries_waiting:
            self._heard()
        else:
            self._up(f"{self.provider} answers")

    def _up(self, detail: str) -> None:
        self._heard()
        self._failures = 0
        self.health.mark(self.channel, ok=True, detail=detail)

    def _heard(self) -> None:
        self._last_heard = asyncio.get_running_loop().time()
