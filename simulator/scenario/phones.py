"""Giving the SMS sandbox's phones their scripts: in-process, or over its control API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

import aiohttp

from simulator.sandbox import ReplyRule, SmsSandbox
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
