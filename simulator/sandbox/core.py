"""Everything the sandbox is apart from its HTTP server, wired together and owned in one place."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self

from simulator.sandbox.calls import CallExchange
from simulator.sandbox.exchange import SmsExchange
from simulator.sandbox.faults import FaultPlan
from simulator.sandbox.inbound import InboundSms
from simulator.sandbox.outcomes import OutcomeBook
from simulator.sandbox.phones import PhoneBook
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.store import MessageStore
from simulator.sandbox.tasks import BackgroundTasks
from simulator.sandbox.webhooks import WebhookSender


class SandboxCore:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = MessageStore()
        self.outcomes = OutcomeBook()
        self.faults = FaultPlan()
        self.tasks = BackgroundTasks()
        self.webhooks = WebhookSender(settings)
        self.phones = PhoneBook(self.store, InboundSms(settings, self.webhooks), self.tasks)
        self.exchange = SmsExchange(settings, self.store, self.outcomes, self.phones, self.webhooks, self.tasks)
        self.calls = CallExchange(settings, self.webhooks, self.tasks)
        #: set when the sandbox stops, to release requests held by a "hang" or "slow" fault
        self.stopping = asyncio.Event()
        self._resources = AsyncExitStack()

    async def __aenter__(self) -> Self:
        await self._resources.enter_async_context(self.webhooks)
        # Entered last so it is left first: tasks stop before the webhook client closes.
        await self._resources.enter_async_context(self.tasks)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stopping.set()
        await self._resources.aclose()

    def reset(self) -> None:
        """Forget every message, phone script, outcome, fault and webhook record."""
        self.faults.clear()
        self.outcomes.clear()
        self.phones.clear()
        self.store.clear()
        self.calls.clear()
        self.webhooks.deliveries.clear()
