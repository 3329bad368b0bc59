"""Twilio's webhooks: inbound SMS replies and delivery status callbacks.

Both check ``X-Twilio-Signature`` against the URL Twilio was given (``web.public_url`` +
path), so a forged or altered request gets 403 and changes nothing. A body over
``MAX_WEBHOOK_BYTES`` is refused (413) before it is read in full or parsed. A correctly
signed request seen before (its ``MessageSid``) is a replay: the reply is not applied
twice (``InboundSms.provider_id`` is unique), and a delivery report only moves forward.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from monitor.actions.replies import InboundReply
from monitor.actions.responses import ReplyOutcome
from monitor.config.settings import TWILIO_API_PROVIDERS
from monitor.core.effects import Effects, commit_then_apply
from monitor.notify.channels import providers_of
from monitor.web.context import WebContext

log = logging.getLogger("callwatch.web.twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
#: Twilio's own limit for a request body is far below this; anything bigger is not Twilio.
MAX_WEBHOOK_BYTES = 64 * 1024


async def bounded_body(request: Request) -> bytes | None:
    """The body, or None as soon as it is known to be over MAX_WEBHOOK_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            return None
    return bytes(body)


async def verified_form(request: Request, *, forged: Counter | None = None) -> dict[str, str] | Response:
    """The request's form fields if Twilio signed them; else the response refusing it, counted
    in ``forged`` when the signature is wrong (SMS replies' count by default)."""
    context: WebContext = request.app.state.context
    gateway = context.settings.sms.gateway_settings()
    if gateway is None:
        return Response("no SMS provider configured", status_code=403)
    body = await bounded_body(request)
    if body is None:
        log.warning("webhook %s over %d bytes refused unread", request.url.path, MAX_WEBHOOK_BYTES)
        return Response("too large", status_code=413)
    try:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return Response("not a form", status_code=400)
    url = context.settings.web.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(gateway.auth_token).validate(url, params, signature):
        log.warning("webhook %s with a missing or wrong signature refused", request.url.path)
        (forged or context.metrics.sms_replies).labels(outcome="forged").inc()
        return Response("invalid signature", status_code=403)
    return params


async def inbound_sms(request: Request) -> Response:
    params = await verified_form(request)
    if isinstance(params, Response):
        return params
    context: WebContext = request.app.state.context
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        return Response("MessageSid missing", status_code=400)
    reply = InboundReply(provider_id=sid, from_phone=params.get("From", ""), body=params.get("Body", ""))

    async def handle(session: AsyncSession, effects: Effects) -> ReplyOutcome:
        return await context.replies.handle(session, effects, reply, context.clock.now())

    outcome = await commit_then_apply(context.database, context.after_commit, handle, urgent=True)
    context.metrics.sms_replies.labels(outcome=outcome.value).inc()
    log.info("reply %s from %s: %s", sid, reply.from_phone, outcome.value)
    return Response(EMPTY_TWIML, media_type="text/xml")


async def status_callback(request: Request) -> Response:
    params = await verified_form(request)
    if isinstance(params, Response):
        return params
    context: WebContext = request.app.state.context
    # Signed with the Twilio account's token: its SMS provider reads it.
    twilio = next((sms for sms in providers_of(context.channels) if sms.provider in TWILIO_API_PROVIDERS), None)
    report = twilio.delivery_report(params, context.clock.now()) if twilio is not None else None
    if report is None:
        return Response("MessageSid and MessageStatus required", status_code=400)
    await context.delivery_reports.submit(report)
    context.metrics.sms_delivery.labels(status=report.status).inc()
    return Response(status_code=204)
