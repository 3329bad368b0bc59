"""Giving the simulated phones their scripts: the SMS sandbox's (in-process, or over its control API),
or those answering a dummy modem."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

import aiohttp

from monitor.notify.sms.gammu_spool import REPORTED
from simulator.harness.dummy_modem import DummyModem
from simulator.sandbox import ReplyRule, SmsSandbox
from simulator.sandbox.phones import decide
from simulator.scenario.model import PhoneEntry


class PhoneScripts(Protocol):
    async def apply(self, phones: Sequence[PhoneEntry]) -> None: ...


class SandboxScripts:
    """Scripts for a sandbox running in this process."""

    def __init__(self, sandbox: SmsSandbox) -> None:
        self.sandbox = sandbox

    async def apply(self, phones: Sequence[PhoneEntry]) -> None:
        for phone in phones:
            rules = [ReplyRule(rule.reply, rule.delay, rule.pattern, rule.times) for rule in phone.rules]
            self.sandbox.phone(phone.number).set_rules(rules)


class RemoteSandboxScripts:
    """Scripts for a sandbox in another process (``callwatch-sim sandbox``), through ``/sandbox/phones``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def apply(self, phones: Sequence[PhoneEntry]) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for phone in phones:
                url = f"{self.base_url}/sandbox/phones/{quote(phone.number, safe='')}/script"
                rules = [rule.model_dump() for rule in phone.rules]
                async with session.put(url, json={"rules": rules}) as answer:
                    if answer.status >= 400:
                        raise RuntimeError(f"the sandbox refused the script for {phone.number}: {await answer.text()}")


class ModemScripts:
    """Scripts for the volunteers' phones when callwatch sends through the dummy modem: each
    message gammu-smsd sent is read by its phone's rules, and a reply is put into the dummy
    phone's inbox after the rule's delay, as an SMS to the SIM."""

    def __init__(self, modem: DummyModem, *, poll_s: float = 0.2) -> None:
        self.modem = modem
        self.poll_s = poll_s
        self._phones: dict[str, tuple[list[ReplyRule], list[int]]] = {}

    async def apply(self, phones: Sequence[PhoneEntry]) -> None:
        for phone in phones:
            rules = [ReplyRule(rule.reply, rule.delay, rule.pattern, rule.times) for rule in phone.rules]
            self._phones[phone.number] = (rules, [0] * len(rules))

    async def run(self) -> None:
        """Answer what the modem sends, until cancelled."""
        read: set[str] = set()
        answering: set[asyncio.Task[None]] = set()
        try:
            while True:
                for sms in self.modem.sent():
                    key = sms.name.removesuffix(REPORTED)
                    if key in read:
                        continue
                    read.add(key)
                    answer = self._decide(sms.to, sms.text)
                    if answer is not None:
                        task = asyncio.create_task(self._reply_later(sms.to, *answer))
                        answering.add(task)
                        task.add_done_callback(answering.discard)
                await asyncio.sleep(self.poll_s)
        finally:
            for task in answering:
                task.cancel()

    def _decide(self, number: str, text: str) -> tuple[str, float] | None:
        rules, uses = self._phones.get(number, ([], []))
        decided = decide(rules, uses, text)
        if decided is None or decided[1] is None:
            return None
        return decided[1], rules[decided[0]].delay

    async def _reply_later(self, number: str, reply: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self.modem.receive(number, reply)
