"""``GET /``: every simulated phone, its script, its inbox and its replies, for people to watch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from simulator.sandbox.core import SandboxCore
from simulator.sandbox.phones import ReplyRule, SimulatedPhone

REFRESH_SECONDS = 2


@dataclass(frozen=True, slots=True)
class InboxLine:
    time: str
    sender: str
    body: str
    status: str
    error_code: int | None
    segments: int
    encoding: str


@dataclass(frozen=True, slots=True)
class ReplyLine:
    time: str
    body: str
    answered: str
    correctly_signed: bool


@dataclass(frozen=True, slots=True)
class PhoneCard:
    number: str
    script: list[str]
    inbox: list[InboxLine]
    replies: list[ReplyLine]


def _clock(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]


def describe_rule(rule: ReplyRule) -> str:
    action = "stay silent" if rule.reply is None else f"reply “{rule.reply}”"
    if rule.reply is not None and rule.delay:
        action += f" after {rule.delay:g} s"
    scope = "to any message" if rule.pattern is None else f"to messages matching /{rule.pattern}/"
    limit = "" if rule.times is None else f", first {rule.times} time{'s' if rule.times != 1 else ''}"
    return f"{action} {scope}{limit}"


def phone_card(phone: SimulatedPhone) -> PhoneCard:
    inbox = [
        InboxLine(
            time=_clock(message.arrived_wall),
            sender=message.from_,
            body=message.body,
            status=message.status.value,
            error_code=message.error_code,
            segments=message.num_segments,
            encoding=message.segments.encoding.value,
        )
        for message in reversed(phone.inbox)
    ]
    replies = [
        ReplyLine(
            time=_clock(reply.sent_wall),
            body=reply.params.get("Body", ""),
            answered=str(reply.answered_status) if reply.answered_status is not None else f"no answer: {reply.error}",
            correctly_signed=reply.correctly_signed,
        )
        for reply in reversed(list(phone.replies))
    ]
    script = [describe_rule(rule) for rule in phone.rules] or ["no script: reads everything, answers nothing"]
    return PhoneCard(phone.number, script, inbox, replies)


class InboxPage:
    def __init__(self, core: SandboxCore) -> None:
        self._core = core
        # Autoescaping is what keeps a body such as "<script>" inert on the page.
        environment = Environment(loader=PackageLoader("simulator", "templates"), autoescape=True)
        self._template = environment.get_template("sandbox_inbox.html")

    def routes(self) -> list[BaseRoute]:
        return [Route("/", self.render, methods=["GET"])]

    async def render(self, request: Request) -> Response:
        core = self._core
        html = self._template.render(
            refresh_seconds=REFRESH_SECONDS,
            settings=core.settings,
            default_outcome=core.outcomes.default,
            outcomes=core.outcomes.by_number(),
            faults=core.faults.pending(),
            message_count=len(core.store.messages),
            phones=[phone_card(phone) for phone in core.phones.all()],
        )
        return HTMLResponse(html)
