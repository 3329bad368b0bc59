"""A small JSON API under ``/sandbox`` to script and observe the sandbox from another process.

=======  ====================================  ==============================================
method   path                                  body / query -> answer
=======  ====================================  ==============================================
GET      /sandbox/state                        -> settings, outcomes, faults, phone scripts
PATCH    /sandbox/settings                     {"inbound_url", "signing_url", "status_step_delay",
                                               "webhook_timeout"} (any subset) -> settings
PUT      /sandbox/outcomes/default             {"outcome": "delivered"|"undelivered"|"failed"|
                                               "rejected", "error_code": 30003|21211|...}
PUT      /sandbox/outcomes/{number}            same, for one destination number
DELETE   /sandbox/outcomes/{number}            back to the default
DELETE   /sandbox/outcomes                     every number back to delivered
POST     /sandbox/faults                       {"kind": "error"|"slow"|"hang", "count": 2,
                                               "status": 429, "error_code": null, "delay": 3.0,
                                               "to": null, "resource": "Messages"|"Calls"|null,
                                               "provider": "twilio"|"aliyun"|null} -> 201
DELETE   /sandbox/faults                       drop every pending fault
PUT      /sandbox/phones/{number}/script       {"rules": [{"reply": "ACK"|null, "delay": 0.5,
                                               "pattern": "regex", "times": 1}, ...]}
DELETE   /sandbox/phones/{number}/script       the phone stays silent
POST     /sandbox/phones/{number}/reply        {"body": "ACK", "to": null, "correctly_signed": true}
                                               -> {"status": <what the monitor answered>}
PUT      /sandbox/phones/{number}/calls        {"pickup": "person"|"nobody"|"machine"|"busy"|"hand",
                                               "after": 5, "keys": "1"} -> what the phone does when called
GET      /sandbox/calls                        ?to= -> {"calls": [...]}: heard, keys, status
POST     /sandbox/calls/{sid}/keys             {"key": "1"} a person presses a key (a call answered
                                               "by hand" that waits for one; else 409)
GET      /sandbox/phones                       -> every phone with inbox, reactions and replies
GET      /sandbox/messages                     ?to=&body_contains=&since=&count=&timeout=
                                               -> {"messages": [...]}; with count, waits until
                                               that many match (504 after timeout)
GET      /sandbox/requests                     -> every create request with its arrival time
GET      /sandbox/webhooks                     ?kind=status_callback|inbound_sms -> deliveries
POST     /sandbox/reset                        forget messages, scripts, outcomes and faults
=======  ====================================  ==============================================

Errors are ``{"error": "..."}`` with 400 (bad JSON or values) or 502 (monitor unreachable).
Phone numbers in paths are URL-encoded (``%2B8613900000001``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from simulator.sandbox.calls import CallScript
from simulator.sandbox.core import SandboxCore
from simulator.sandbox.faults import ApiFault
from simulator.sandbox.json_fields import optional_str, seconds
from simulator.sandbox.outcomes import Outcome
from simulator.sandbox.phones import ReplyDeliveryError, ReplyRule
from simulator.sandbox.records import WebhookKind
from simulator.sandbox.store import DEFAULT_WAIT_TIMEOUT_S, message_filter
from simulator.sandbox.views import (
    attempt_view,
    delivery_view,
    fields_view,
    message_view,
    phone_view,
    settings_view,
)

_Endpoint = Callable[[Request], Awaitable[Response]]


class BadRequestError(ValueError):
    """The request's JSON or query is not what the endpoint takes."""


def _bad_requests_answered(endpoint: _Endpoint) -> _Endpoint:
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ValueError as exc:  # BadRequestError, and the records' own from_json checks
            return JSONResponse({"error": str(exc)}, status_code=400)

    return answer


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise BadRequestError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequestError("expected a JSON object")
    return data


def _float_query(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequestError(f"'{name}' must be a number") from None


class ControlApi:
    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    def routes(self) -> list[BaseRoute]:
        endpoints: list[tuple[str, _Endpoint, str]] = [
            ("/sandbox/state", self.state, "GET"),
            ("/sandbox/settings", self.update_settings, "PATCH"),
            ("/sandbox/outcomes/default", self.set_default_outcome, "PUT"),
            ("/sandbox/outcomes/{number}", self.set_outcome, "PUT"),
            ("/sandbox/outcomes/{number}", self.clear_outcome, "DELETE"),
            ("/sandbox/outcomes", self.clear_outcomes, "DELETE"),
            ("/sandbox/faults", self.add_fault, "POST"),
            ("/sandbox/faults", self.clear_faults, "DELETE"),
            ("/sandbox/phones/{number}/script", self.set_script, "PUT"),
            ("/sandbox/phones/{number}/script", self.clear_script, "DELETE"),
            ("/sandbox/phones/{number}/reply", self.reply, "POST"),
            ("/sandbox/phones/{number}/calls", self.script_calls, "PUT"),
            ("/sandbox/calls", self.calls, "GET"),
            ("/sandbox/calls/{sid}/keys", self.press_key, "POST"),
            ("/sandbox/phones", self.phones, "GET"),
            ("/sandbox/messages", self.messages, "GET"),
            ("/sandbox/requests", self.requests, "GET"),
            ("/sandbox/webhooks", self.webhooks, "GET"),
            ("/sandbox/reset", self.reset, "POST"),
        ]
        return [Route(path, _bad_requests_answered(endpoint), methods=[method]) for path, endpoint, method in endpoints]

    async def state(self, request: Request) -> Response:
        core = self._core
        return JSONResponse(
            {
                "settings": settings_view(core.settings),
                "outcomes": {
                    "default": core.outcomes.default.to_json(),
                    "by_number": {number: o.to_json() for number, o in core.outcomes.by_number().items()},
                },
                "faults": [fault.to_json() for fault in core.faults.pending()],
                "phones": {phone.number: [rule.to_json() for rule in phone.rules] for phone in core.phones.all()},
            }
        )

    async def update_settings(self, request: Request) -> Response:
        data = await _json_object(request)
        settings = self._core.settings
        if "inbound_url" in data:
            settings.inbound_url = optional_str(data, "inbound_url")
        if "signing_url" in data:
            settings.signing_url = optional_str(data, "signing_url")
        if "status_step_delay" in data:
            settings.status_step_delay = seconds(data, "status_step_delay")
        if "webhook_timeout" in data:
            settings.webhook_timeout = seconds(data, "webhook_timeout")
        return JSONResponse(settings_view(settings))

    async def set_default_outcome(self, request: Request) -> Response:
        self._core.outcomes.default = Outcome.from_json(await _json_object(request))
        return JSONResponse(self._core.outcomes.default.to_json())

    async def set_outcome(self, request: Request) -> Response:
        outcome = Outcome.from_json(await _json_object(request))
        self._core.outcomes.set(request.path_params["number"], outcome)
        return JSONResponse(outcome.to_json())

    async def clear_outcome(self, request: Request) -> Response:
        self._core.outcomes.clear(request.path_params["number"])
        return Response(status_code=204)

    async def clear_outcomes(self, request: Request) -> Response:
        self._core.outcomes.clear()
        return Response(status_code=204)

    async def add_fault(self, request: Request) -> Response:
        fault = self._core.faults.add(ApiFault.from_json(await _json_object(request)))
        return JSONResponse(fault.to_json(), status_code=201)

    async def clear_faults(self, request: Request) -> Response:
        self._core.faults.clear()
        return Response(status_code=204)

    async def set_script(self, request: Request) -> Response:
        rules = (await _json_object(request)).get("rules")
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            raise BadRequestError("'rules' must be a list of objects")
        phone = self._core.phones.phone(request.path_params["number"])
        phone.set_rules([ReplyRule.from_json(rule) for rule in rules])
        return JSONResponse({"number": phone.number, "rules": [rule.to_json() for rule in phone.rules]})

    async def clear_script(self, request: Request) -> Response:
        self._core.phones.phone(request.path_params["number"]).clear_script()
        return Response(status_code=204)

    async def reply(self, request: Request) -> Response:
        data = await _json_object(request)
        body, to, signed = optional_str(data, "body"), optional_str(data, "to"), data.get("correctly_signed", True)
        if body is None or not isinstance(signed, bool):
            raise BadRequestError("expected {'body': str, 'to': str|null, 'correctly_signed': bool}")
        phone = self._core.phones.phone(request.path_params["number"])
        try:
            status = await phone.reply(body, to=to, correctly_signed=signed)
        except ReplyDeliveryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=502)
        return JSONResponse({"status": status})

    async def script_calls(self, request: Request) -> Response:
        script = CallScript.from_json(await _json_object(request))
        number = request.path_params["number"]
        self._core.phones.phone(number)
        self._core.calls.scripts.set(number, script)
        return JSONResponse({"number": number, **script.to_json()})

    async def calls(self, request: Request) -> Response:
        to = request.query_params.get("to")
        return JSONResponse({"calls": [fields_view(call) for call in self._core.calls.calls if to in (None, call.to)]})

    async def press_key(self, request: Request) -> Response:
        key = optional_str(await _json_object(request), "key") or ""
        if not self._core.calls.press(request.path_params["sid"], key):
            return JSONResponse({"error": "that call is not waiting for a key (or the key is not 0-9, * or #)"}, 409)
        return Response(status_code=204)

    async def phones(self, request: Request) -> Response:
        return JSONResponse({"phones": [phone_view(phone) for phone in self._core.phones.all()]})

    async def messages(self, request: Request) -> Response:
        query = request.query_params
        count = _float_query(request, "count") or 0
        timeout = _float_query(request, "timeout")
        accepts = message_filter(
            to=query.get("to"), body_contains=query.get("body_contains"), since=_float_query(request, "since")
        )
        try:
            found = await self._core.store.messages.wait_for(
                int(count), accepts, timeout=DEFAULT_WAIT_TIMEOUT_S if timeout is None else timeout
            )
        except TimeoutError as exc:
            return JSONResponse({"error": str(exc)}, status_code=504)
        return JSONResponse({"messages": [message_view(message) for message in found]})

    async def requests(self, request: Request) -> Response:
        return JSONResponse({"requests": [attempt_view(attempt) for attempt in self._core.store.attempts]})

    async def webhooks(self, request: Request) -> Response:
        kind = request.query_params.get("kind")
        if kind is not None and kind not in set(WebhookKind):
            raise BadRequestError(f"'kind' must be one of {[k.value for k in WebhookKind]}")
        deliveries = [d for d in self._core.webhooks.deliveries if kind is None or d.kind == kind]
        return JSONResponse({"webhooks": [delivery_view(delivery) for delivery in deliveries]})

    async def reset(self, request: Request) -> Response:
        self._core.reset()
        return Response(status_code=204)
