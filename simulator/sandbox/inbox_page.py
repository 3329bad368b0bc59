"""``GET /``: every simulated phone, its scripts, its inbox, its replies and its calls, for people
to watch; on a call answered by hand, a person presses 1, 2 or 9 here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from simulator.sandbox.calls import CallExchange
from simulator.sandbox.core import SandboxCore
from simulator.sandbox.phones import ReplyRule, SimulatedPhone
from simulator.sandbox.records import PlacedCall

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
    #: which provider's API carried it: "twilio" or "aliyun"
    provider: str


@dataclass(frozen=True, slots=True)
class ReplyLine:
    time: str
    body: str
    answered: str
    correctly_signed: bool


@dataclass(frozen=True, slots=True)
class CallLine:
    sid: str
    time: str
    status: str
    answered_by: str
    #: what the phone heard, each <Say> once in order
    heard: list[str]
    keys: str
    waiting_for_key: bool


@dataclass(frozen=True, slots=True)
class PhoneCard:
    number: str
    script: list[str]
    inbox: list[InboxLine]
    replies: list[ReplyLine]
    call_script: str
    calls: list[CallLine]


def _clock(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]


def describe_rule(rule: ReplyRule) -> str:
    action = "stay silent" if rule.reply is None else f"reply “{rule.reply}”"
    if rule.reply is not None and rule.delay:
        action += f" after {rule.delay:g} s"
    scope = "to any message" if rule.pattern is None else f"to messages matching /{rule.pattern}/"
    limit = "" if rule.times is None else f", first {rule.times} time{'s' if rule.times != 1 else ''}"
    return f"{action} {scope}{limit}"


def call_line(call: PlacedCall, calls: CallExchange) -> CallLine:
    return CallLine(
        sid=call.sid,
        time=_clock(call.arrived_wall),
        status=call.status,
        answered_by=call.answered_by or "",
        heard=call.heard,
        keys=" ".join(call.keys),
        waiting_for_key=calls.waiting_for_key(call.sid),
    )


def phone_card(phone: SimulatedPhone, calls: CallExchange) -> PhoneCard:
    inbox = [
        InboxLine(
            time=_clock(message.arrived_wall),
            sender=message.from_,
            body=message.body,
            status=message.status.value,
            error_code=message.error_code,
            segments=message.num_segments,
            encoding=message.segments.encoding.value,
            provider=message.provider,
        )
        for message in reversed(phone.inbox)
    ]
    replies = [
        ReplyLine(
            time=_clock(reply.sent_wall),
            # Twilio's form names the text Body, Alibaba Cloud's SmsUp push content
            body=reply.params.get("Body") or reply.params.get("content", ""),
            answered=str(reply.answered_status) if reply.answered_status is not None else f"no answer: {reply.error}",
            correctly_signed=reply.correctly_signed,
        )
        for reply in reversed(list(phone.replies))
    ]
    script = [describe_rule(rule) for rule in phone.rules] or ["no script: reads everything, answers nothing"]
    placed = [call_line(call, calls) for call in calls.listing(to=phone.number)]
    return PhoneCard(phone.number, script, inbox, replies, calls.scripts.for_number(phone.number).describe(), placed)


class InboxPage:
    def __init__(self, core: SandboxCore) -> None:
        self._core = core
        # Autoescaping is what keeps a body such as "<script>" inert on the page.
        environment = Environment(loader=PackageLoader("simulator", "templates"), autoescape=True)
        self._template = environment.get_template("sandbox_inbox.html")

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.render, methods=["GET"]),
            Route("/calls/{sid}/press", self.press, methods=["POST"]),
        ]

    async def press(self, request: Request) -> Response:
        """A person pressed a key on a call answered by hand; back to the page either way."""
        key = (await request.form()).get("key")
        self._core.calls.press(request.path_params["sid"], key if isinstance(key, str) else "")
        return RedirectResponse("/", status_code=303)

    async def render(self, request: Request) -> Response:
        core = self._core
        html = self._template.render(
            refresh_seconds=REFRESH_SECONDS,
            settings=core.settings,
            default_outcome=core.outcomes.default,
            outcomes=core.outcomes.by_number(),
            faults=core.faults.pending(),
            message_count=len(core.store.messages),
            phones=[phone_card(phone, core.calls) for phone in core.phones.all()],
        )
        return HTMLResponse(html)
