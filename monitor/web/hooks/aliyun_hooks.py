"""Alibaba Cloud's pushes: volunteers' replies (SmsUp) and delivery reports (SmsReport), each a
JSON array.

The pushes carry no signature, so they are let in by a secret in their address (``[web]
public_url`` + ``/aliyun/sms-up/<[sms.aliyun] push_token>``, ``/aliyun/sms-report/<token>``) and,
when ``push_allow`` lists networks, only from those; anything else gets 403 and changes nothing.
Each reply goes through the same reply grammar and actions door as a Twilio reply; its
``sequence_id`` is its id, so a push the provider retries (it does, after anything but a 200) is
not applied twice. A report moves its message on as a Twilio status callback does (never back).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.actions.replies import InboundReply
from monitor.actions.responses import ReplyOutcome
from monitor.config.settings import AliyunSettings
from monitor.core.effects import Effects, commit_then_apply
from monitor.notify.channel import ReportedStatus
from monitor.notify.sms.aliyun_forms import e164_number
from monitor.web.context import WebContext
from monitor.web.hooks.twilio_hooks import bounded_body

log = logging.getLogger("callwatch.web.aliyun")

#: where Alibaba Cloud pushes replies, below ``[web] public_url``; the push token follows
SMS_UP_PATH = "/aliyun/sms-up/"
#: where it pushes delivery reports
SMS_REPORT_PATH = "/aliyun/sms-report/"
#: the answer the provider expects (it checks only that ``code`` is a number)
RECEIVED = {"code": 0, "msg": "接收成功"}


def _let_in(request: Request, aliyun: AliyunSettings) -> bool:
    token = request.path_params.get("token", "")
    if not hmac.compare_digest(token.encode(), aliyun.push_token.encode()):
        return False
    if not aliyun.push_allow:
        return True
    client = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in aliyun.push_allow)


def _replies(document: object) -> list[InboundReply] | None:
    """The pushed messages as replies; None when the body is not SmsUp's array."""
    if not isinstance(document, list):
        return None
    replies = []
    for item in document:
        if not isinstance(item, dict):
            return None
        sequence_id, phone = item.get("sequence_id"), item.get("phone_number")
        if sequence_id in (None, "") or not isinstance(phone, str) or not phone:
            return None
        body = item.get("content")
        replies.append(
            InboundReply(
                provider_id=f"smsup-{sequence_id}",
                from_phone=e164_number(phone),
                body=body if isinstance(body, str) else "",
            )
        )
    return replies


def _reports(document: object, context: WebContext) -> list[ReportedStatus] | None:
    """The pushed delivery reports; None when the body is not SmsReport's array."""
    if not isinstance(document, list):
        return None
    reports = []
    for item in document:
        if not isinstance(item, dict) or not isinstance(item.get("biz_id"), str) or not item["biz_id"]:
            return None
        delivered = item.get("success") is True
        code = item.get("err_code")
        error = None if delivered or not isinstance(code, str) or not code else code[:16]
        status = "delivered" if delivered else "undelivered"
        reports.append(ReportedStatus(item["biz_id"], status, error, context.clock.now()))
    return reports


async def _pushed(request: Request, what: str) -> object | Response:
    """The push's JSON document, or the response refusing it (no token, not allowed, too large, not JSON)."""
    context: WebContext = request.app.state.context
    aliyun = context.settings.sms.aliyun
    if aliyun is None or "aliyun" not in context.settings.sms.provider_order or not _let_in(request, aliyun):
        log.warning("%s push without the push token or from outside push_allow refused", what)
        context.metrics.sms_replies.labels(outcome="forged").inc()
        return Response("forbidden", status_code=403)
    body = await bounded_body(request)
    if body is None:
        return Response("too large", status_code=413)
    try:
        document: object = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Response(f"expected {what}'s JSON array", status_code=400)
    return document


async def sms_report(request: Request) -> Response:
    document = await _pushed(request, "SmsReport")
    if isinstance(document, Response):
        return document
    context: WebContext = request.app.state.context
    reports = _reports(document, context)
    if reports is None:
        return Response("expected SmsReport's JSON array of biz_id, success, err_code", status_code=400)
    for report in reports:
        await context.delivery_reports.submit(report)
        context.metrics.sms_delivery.labels(status=report.status).inc()
    return JSONResponse(RECEIVED)


async def sms_up(request: Request) -> Response:
    document = await _pushed(request, "SmsUp")
    if isinstance(document, Response):
        return document
    context: WebContext = request.app.state.context
    replies = _replies(document)
    if replies is None:
        return Response("expected SmsUp's JSON array of phone_number, content, sequence_id", status_code=400)
    for reply in replies:

        async def handle(session: AsyncSession, effects: Effects, reply: InboundReply = reply) -> ReplyOutcome:
            return await context.replies.handle(session, effects, reply, context.clock.now())

        outcome = await commit_then_apply(context.database, context.after_commit, handle, urgent=True)
        context.metrics.sms_replies.labels(outcome=outcome.value).inc()
        log.info("reply %s from %s: %s", reply.provider_id, reply.from_phone, outcome.value)
    return JSONResponse(RECEIVED)
