"""The part of Alibaba Cloud's SMS API (Dysmsapi 2017-05-25) that callwatch uses, as its official
SDK calls it: ``POST /`` with the action in ``x-acs-action`` and the parameters in the query.

``SendSms``            PhoneNumbers, SignName, TemplateCode, TemplateParam (JSON), OutId
``QuerySendDetails``   PhoneNumber, SendDate (yyyyMMdd), PageSize, CurrentPage

``SendSms`` meets the same scripted faults as Twilio's message creates (``sandbox.faults``): an
HTTP error in Alibaba Cloud's shape, a slow answer (created all the same), or none at all.

Every request must carry the SDK's ``ACS3-HMAC-SHA256`` signature made with the sandbox's
AccessKey pair, checked as the service checks it (canonical request over the method, path,
sorted query, the signed headers and the payload's hash); a wrong one is refused with
``SignatureDoesNotMatch``. Answers are 200 with a ``Code``: ``OK``, or the refusal's code.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor.notify.sms.aliyun_forms import PROVIDER_ZONE, VARIABLE_LIMIT, e164_number, provider_number
from monitor.notify.sms.aliyun_texts import rendered
from simulator.sandbox.exchange import MessageRequest, SmsExchange
from simulator.sandbox.faults import MESSAGES, FaultKind, FaultPlan, hold
from simulator.sandbox.records import CreateAttempt, MessageStatus, OutboundMessage
from simulator.sandbox.settings import SandboxSettings
from simulator.sandbox.store import MessageStore
from simulator.sandbox.twilio_errors import TwilioApiError

ALGORITHM = "ACS3-HMAC-SHA256"
_AUTHORIZATION = re.compile(rf"{ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)")
_TEMPLATE_CODE = re.compile(r"SMS_[0-9A-Za-z_]+")
#: QuerySendDetails' SendStatus: 1 waiting for the receipt, 2 failed, 3 delivered
_SEND_STATUS = {MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 2, MessageStatus.UNDELIVERED: 2}


def _answer(code: str = "OK", message: str = "OK", *, status: int = 200, **fields: object) -> JSONResponse:
    return JSONResponse({"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper(), **fields}, status)


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{key}={quote(query[key], safe='~')}" for key in sorted(query))


def expected_signature(request: Request, body: bytes, signed_headers: str, secret: str) -> str | None:
    """The signature the SDK makes for this request with ``secret``; None when its payload hash lies."""
    payload_hash = request.headers.get("x-acs-content-sha256", "")
    if payload_hash != hashlib.sha256(body).hexdigest():
        return None
    names = signed_headers.split(";")
    values = {name: ",".join(sorted(value.strip() for value in request.headers.getlist(name))) for name in names}
    headers = "".join(f"{name}:{values[name]}\n" for name in names)
    canonical = "\n".join(
        [
            request.method,
            request.url.path or "/",
            canonical_query(dict(request.query_params)),
            headers,
            signed_headers,
            payload_hash,
        ]
    )
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class AliyunSmsApi:
    def __init__(
        self,
        settings: SandboxSettings,
        store: MessageStore,
        exchange: SmsExchange,
        faults: FaultPlan,
        stopping: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._store = store
        self._exchange = exchange
        self._faults = faults
        #: set when the sandbox stops: held requests are let go then
        self._stopping = stopping

    def routes(self) -> list[BaseRoute]:
        return [Route("/", self.action, methods=["POST"])]

    async def action(self, request: Request) -> Response:
        body = await request.body()
        refused = self._authentication_refused(request, body)
        if refused is not None:
            return refused
        action = request.headers.get("x-acs-action", "")
        if action == "SendSms":
            return await self._send_sms(dict(request.query_params))
        if action == "QuerySendDetails":
            return self._query_send_details(dict(request.query_params))
        return _answer("InvalidAction.NotFound", f"{action or 'no action'} is not supported here", status=404)

    def _authentication_refused(self, request: Request, body: bytes) -> Response | None:
        found = _AUTHORIZATION.fullmatch(request.headers.get("authorization", ""))
        if found is None or found.group(1) != self._settings.aliyun_access_key_id:
            return _answer("InvalidAccessKeyId.NotFound", "Specified access key is not found.", status=404)
        expected = expected_signature(request, body, found.group(2), self._settings.aliyun_access_key_secret)
        if expected is None or not hmac.compare_digest(expected, found.group(3)):
            return _answer("SignatureDoesNotMatch", "Specified signature does not match our calculation.", status=400)
        return None

    async def _send_sms(self, query: dict[str, str]) -> Response:
        attempt = CreateAttempt(arrived_monotonic=time.monotonic(), arrived_wall=time.time(), provider="aliyun")
        self._store.attempts.append(attempt)
        attempt.to = e164_number(query.get("PhoneNumbers", "")) if query.get("PhoneNumbers", "").isdigit() else None
        answer = await self._trouble(attempt.to) or self._sent_or_refused(query, attempt)
        attempt.answered_status = answer.status_code
        self._store.attempts.touch()
        return answer

    def _sent_or_refused(self, query: dict[str, str], attempt: CreateAttempt) -> Response:
        numbers, sign, code = query.get("PhoneNumbers", ""), query.get("SignName", ""), query.get("TemplateCode", "")
        if not numbers.isdigit():
            return _answer("isv.MOBILE_NUMBER_ILLEGAL", f"invalid mobile number {numbers!r}")
        if not sign:
            return _answer("isv.SMS_SIGNATURE_ILLEGAL", "SignName is missing")
        if _TEMPLATE_CODE.fullmatch(code) is None:
            return _answer("isv.SMS_TEMPLATE_ILLEGAL", f"invalid template code {code!r}")
        approved = self._settings.aliyun_templates
        if approved and code not in approved:
            return _answer("isv.SMS_TEMPLATE_ILLEGAL", f"template {code!r} is not approved for this account")
        try:
            params = json.loads(query.get("TemplateParam") or "{}")
        except json.JSONDecodeError:
            return _answer("isv.INVALID_JSON_PARAM", "TemplateParam is not JSON")
        if not isinstance(params, dict) or not all(isinstance(value, str) for value in params.values()):
            return _answer("isv.INVALID_JSON_PARAM", "TemplateParam must be an object of strings")
        if any(not value or len(value) > VARIABLE_LIMIT for value in params.values()):
            return _answer("isv.PARAM_LENGTH_LIMIT", f"a variable is empty or over {VARIABLE_LIMIT} characters")
        attempt.to = e164_number(numbers)
        try:
            message = self._create(attempt.to, attempt, code, params, sign, query.get("OutId"))
        except TwilioApiError as exc:  # the number's scripted outcome refuses it
            return _answer("isv.MOBILE_NUMBER_ILLEGAL", exc.error.message)
        attempt.message_sid = message.sid
        return _answer(BizId=message.sid)

    def _create(
        self, to: str, attempt: CreateAttempt, code: str, params: dict[str, str], sign: str, out_id: str | None
    ) -> OutboundMessage:
        text = self._settings.aliyun_templates.get(code)
        attempt.body = f"【{sign}】{rendered(text, params)}" if text is not None else _shown(code, params)
        return self._exchange.create(
            MessageRequest(
                to=to,
                body=attempt.body,
                provider="aliyun",
                template_code=code,
                template_params=params,
                sign_name=sign,
                out_id=out_id,
            ),
            arrived_monotonic=attempt.arrived_monotonic,
            arrived_wall=attempt.arrived_wall,
        )

    async def _trouble(self, to: str | None) -> Response | None:
        """The scripted fault's answer for this SendSms, if any; None = go on (after a slow one's wait)."""
        fault = self._faults.take(to, MESSAGES, "aliyun")
        if fault is None:
            return None
        if fault.kind is FaultKind.ERROR:
            code = "Throttling.User" if fault.status == 429 else ("isp.SYSTEM_ERROR" if fault.status >= 500 else "")
            return _answer(code or "isv.INVALID_PARAMETERS", "scripted fault", status=fault.status)
        if not await hold(self._stopping, None if fault.kind is FaultKind.HANG else fault.delay):
            return _answer("ServiceUnavailable", "the sandbox is stopping", status=503)
        return None

    def _query_send_details(self, query: dict[str, str]) -> Response:
        number, day = query.get("PhoneNumber", ""), query.get("SendDate", "")
        if not number.isdigit() or re.fullmatch(r"\d{8}", day) is None:
            return _answer("isv.INVALID_PARAMETERS", "PhoneNumber and SendDate (yyyyMMdd) are required")
        to = e164_number(number)
        found = [
            message
            for message in self._store.messages
            if message.provider == "aliyun" and message.to == to and _day_of(message) == day
        ]
        size = int(query.get("PageSize") or 10)
        details = [_detail(message) for message in found[:size]]
        return _answer(TotalCount=str(len(found)), SmsSendDetailDTOs={"SmsSendDetailDTO": details})


def _shown(code: str, params: dict[str, str]) -> str:
    """The message as the sandbox's phones and page show it: its template code and parameters."""
    return " ".join([code, *(f"{name}={value}" for name, value in params.items())])


def _day_of(message: OutboundMessage) -> str:
    return datetime.fromtimestamp(message.arrived_wall, PROVIDER_ZONE).strftime("%Y%m%d")


def _detail(message: OutboundMessage) -> dict[str, object]:
    sent = datetime.fromtimestamp(message.arrived_wall, PROVIDER_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    return {
        "PhoneNum": provider_number(message.to),
        "SendStatus": _SEND_STATUS.get(message.status, 1),
        "ErrCode": "DELIVERED" if message.status is MessageStatus.DELIVERED else "",
        "TemplateCode": message.template_code,
        "Content": message.body,
        "SendDate": sent,
        "ReceiveDate": sent,
        "OutId": message.out_id,
    }
