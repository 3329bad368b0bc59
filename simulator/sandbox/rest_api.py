"""The part of Twilio's REST API (2010-04-01) that the twilio client uses for messages and calls.

``POST   /2010-04-01/Accounts/{AccountSid}/Messages.json``        create (form-encoded)
``GET    /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json``  fetch
``GET    /2010-04-01/Accounts/{AccountSid}/Messages.json``        list (To, From, DateSent[<>], PageSize)
``POST   /2010-04-01/Accounts/{AccountSid}/Calls.json``           create (To, From, Url, StatusCallback...)
``GET    /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json``     fetch
``GET    /2010-04-01/Accounts/{AccountSid}/Calls.json``           list (To, PageSize), newest first

All need HTTP Basic auth with the sandbox's account sid and auth token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from simulator.sandbox.calls import CallExchange
from simulator.sandbox.exchange import PHONE_NUMBER, MessageRequest, SmsExchange
from simulator.sandbox.faults import CALLS, MESSAGES, FaultKind, FaultPlan, hold
from simulator.sandbox.records import CreateAttempt, OutboundMessage
from simulator.sandbox.resources import API_VERSION, call_json, calls_path, message_json, messages_path, page_json
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.store import MessageStore, SentDateFilter
from simulator.sandbox.twilio_errors import (
    INVALID_TO_NUMBER,
    TwilioApiError,
    TwilioError,
    authentication_failed,
    body_too_long,
    http_failure,
    missing_parameter,
    rejected_destination,
    resource_not_found,
)

MAX_BODY_CHARS = 1600
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
_PAGE_TOKEN_PREFIX = "PA"  # noqa: S105 - a page token, not a password


def error_response(error: TwilioError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
    return JSONResponse(error.to_json(), status_code=error.status, headers=headers)


class TwilioRestApi:
    def __init__(
        self,
        settings: SandboxSettings,
        store: MessageStore,
        exchange: SmsExchange,
        faults: FaultPlan,
        stopping: asyncio.Event,
        calls: CallExchange,
    ) -> None:
        self._settings = settings
        self._store = store
        self._exchange = exchange
        self._calls = calls
        self._faults = faults
        #: set when the sandbox stops: held requests are let go then
        self._stopping = stopping

    def routes(self) -> list[BaseRoute]:
        base = f"/{API_VERSION}/Accounts/{{account_sid}}"
        return [
            Route(f"{base}/Messages.json", self.create_message, methods=["POST"]),
            Route(f"{base}/Messages.json", self.list_messages, methods=["GET"]),
            Route(f"{base}/Messages/{{sid}}.json", self.fetch_message, methods=["GET"]),
            Route(f"{base}/Calls.json", self.create_call, methods=["POST"]),
            Route(f"{base}/Calls.json", self.list_calls, methods=["GET"]),
            Route(f"{base}/Calls/{{sid}}.json", self.fetch_call, methods=["GET"]),
        ]

    async def create_message(self, request: Request) -> Response:
        return await self._recorded(request, self._create)

    async def create_call(self, request: Request) -> Response:
        """Ring the phone ``To`` (``simulator.sandbox.calls``); same faults and refusals as messages."""
        return await self._recorded(request, self._create_call)

    async def _recorded(
        self, request: Request, create: Callable[[Request, CreateAttempt], Awaitable[Response]]
    ) -> Response:
        """A create request recorded as it arrived, with the answer ``create`` gave it."""
        # The arrival time is the first thing taken: benchmarks measure press -> this instant.
        attempt = CreateAttempt(arrived_monotonic=time.monotonic(), arrived_wall=time.time())
        self._store.attempts.append(attempt)
        try:
            response = await create(request, attempt)
        except TwilioApiError as exc:
            attempt.error_code = exc.error.code
            response = error_response(exc.error)
        attempt.answered_status = response.status_code
        self._store.attempts.touch()
        return response

    async def _trouble(self, to: str | None, resource: str) -> None:
        """The scripted fault for this create, if any: an error raised, or the answer held."""
        fault = self._faults.take(to, resource)
        if fault is not None and fault.kind is FaultKind.ERROR:
            raise TwilioApiError(fault.error)
        if fault is not None and not await hold(self._stopping, None if fault.kind is FaultKind.HANG else fault.delay):
            raise TwilioApiError(http_failure(503))

    async def _create(self, request: Request, attempt: CreateAttempt) -> Response:
        form = await request.form()
        attempt.to, attempt.body = _text(form, "To"), _text(form, "Body")
        self._authenticate(request)
        await self._trouble(attempt.to, MESSAGES)
        message = self._exchange.create(
            _message_request(form),
            arrived_monotonic=attempt.arrived_monotonic,
            arrived_wall=attempt.arrived_wall,
        )
        attempt.message_sid = message.sid
        return JSONResponse(message_json(message), status_code=201)

    async def fetch_message(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            message = self._store.get(request.path_params["sid"])
            if message is None:
                raise TwilioApiError(resource_not_found(request.url.path))
        except TwilioApiError as exc:
            return error_response(exc.error)
        return JSONResponse(message_json(message))

    async def list_messages(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            query = request.query_params
            page_size = _bounded_int(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
            page = _bounded_int(query, "Page", 0, 0, None)
            date_sent = SentDateFilter(
                on=_date_param(query, "DateSent"),
                on_or_before=_date_param(query, "DateSent<"),
                on_or_after=_date_param(query, "DateSent>"),
            )
        except TwilioApiError as exc:
            return error_response(exc.error)
        matching = self._store.listing(to=query.get("To"), from_=query.get("From"), date_sent=date_sent)
        start = _start_index(matching, query.get("PageToken"), page * page_size)
        shown = matching[start : start + page_size]
        more = start + page_size < len(matching)
        filters = {key: value for key, value in query.items() if key in ("To", "From") or key.startswith("DateSent")}
        return JSONResponse(
            page_json(
                [message_json(message) for message in shown],
                key="messages",
                list_path=f"{messages_path(self._settings.account_sid)}.json",
                filters=filters,
                page=page,
                page_size=page_size,
                next_page_token=_PAGE_TOKEN_PREFIX + shown[-1].sid if more and shown else None,
            )
        )

    async def _create_call(self, request: Request, attempt: CreateAttempt) -> Response:
        form = await request.form()
        attempt.to = _text(form, "To")
        self._authenticate(request)
        await self._trouble(attempt.to, CALLS)
        to, from_, url = _text(form, "To"), _text(form, "From"), _text(form, "Url")
        for name, value in (("To", to), ("From", from_), ("Url", url)):
            if value is None:
                raise TwilioApiError(missing_parameter(name))
        assert to is not None and from_ is not None and url is not None
        if PHONE_NUMBER.fullmatch(to) is None:
            raise TwilioApiError(rejected_destination(INVALID_TO_NUMBER, to))
        timeout = _text(form, "Timeout")
        call = self._calls.create(
            to=to,
            from_=from_,
            url=url,
            status_callback=_text(form, "StatusCallback"),
            events=[event for event in form.getlist("StatusCallbackEvent") if isinstance(event, str)],
            timeout_s=int(timeout) if timeout is not None and timeout.isdigit() else 60,
            machine_detection=_text(form, "MachineDetection") in ("Enable", "DetectMessageEnd"),
            arrived_monotonic=attempt.arrived_monotonic,
            arrived_wall=attempt.arrived_wall,
        )
        attempt.message_sid = call.sid
        return JSONResponse(call_json(call), status_code=201)

    async def fetch_call(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            call = self._calls.get(request.path_params["sid"])
            if call is None:
                raise TwilioApiError(resource_not_found(request.url.path))
        except TwilioApiError as exc:
            return error_response(exc.error)
        return JSONResponse(call_json(call))

    async def list_calls(self, request: Request) -> Response:
        try:
            self._authenticate(request)
            query = request.query_params
            page_size = _bounded_int(query, "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        except TwilioApiError as exc:
            return error_response(exc.error)
        shown = self._calls.listing(to=query.get("To"))[:page_size]
        filters = {key: value for key, value in query.items() if key == "To"}
        return JSONResponse(
            page_json(
                [call_json(call) for call in shown],
                key="calls",
                list_path=f"{calls_path(self._settings.account_sid)}.json",
                filters=filters,
                page=0,
                page_size=page_size,
                next_page_token=None,
            )
        )

    def _authenticate(self, request: Request) -> None:
        """Basic auth must carry the sandbox's credentials, and the path its account."""
        credentials = _basic_credentials(request.headers.get("Authorization", ""))
        if credentials is None:
            raise TwilioApiError(authentication_failed())
        account_sid, token = credentials
        valid = hmac.compare_digest(account_sid.encode(), self._settings.account_sid.encode())
        valid &= hmac.compare_digest(token.encode(), self._settings.auth_token.encode())
        if not valid:
            raise TwilioApiError(authentication_failed())
        if request.path_params["account_sid"] != account_sid:
            raise TwilioApiError(resource_not_found(request.url.path))


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value != "" else None


def _message_request(form: FormData) -> MessageRequest:
    to, body = _text(form, "To"), _text(form, "Body")
    from_, service = _text(form, "From"), _text(form, "MessagingServiceSid")
    if to is None:
        raise TwilioApiError(missing_parameter("To"))
    if from_ is None and service is None:
        raise TwilioApiError(missing_parameter("From"))
    if body is None:
        raise TwilioApiError(missing_parameter("Body"))
    if len(body) > MAX_BODY_CHARS:
        raise TwilioApiError(body_too_long())
    return MessageRequest(
        to=to,
        body=body,
        from_=from_,
        messaging_service_sid=service,
        status_callback=_text(form, "StatusCallback"),
    )


def _bounded_int(query: QueryParams, name: str, default: int, lowest: int, highest: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TwilioApiError(TwilioError(400, 20001, f"Invalid {name}: {raw}")) from None
    if value < lowest:
        raise TwilioApiError(TwilioError(400, 20001, f"Invalid {name}: {raw}"))
    return value if highest is None else min(value, highest)


def _date_param(query: QueryParams, name: str) -> datetime | date | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ`` (what the twilio client sends), in GMT."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        if "T" not in raw:
            return date.fromisoformat(raw)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise TwilioApiError(TwilioError(400, 20001, f"Invalid {name}: {raw}")) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _start_index(matching: list[OutboundMessage], page_token: str | None, fallback: int) -> int:
    """Continue after the message a page token names, so new messages do not shift pages."""
    if page_token is not None and page_token.startswith(_PAGE_TOKEN_PREFIX):
        last_sid = page_token.removeprefix(_PAGE_TOKEN_PREFIX)
        for index, message in enumerate(matching):
            if message.sid == last_sid:
                return index + 1
    return fallback
