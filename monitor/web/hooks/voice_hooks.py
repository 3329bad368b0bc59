"""Twilio Voice's webhooks: a call's words (TwiML), the key pressed, and the call's progress.

Every request is checked as the SMS webhooks are (``X-Twilio-Signature`` against ``[web]
public_url`` + path + query, body size), so a forged or altered one gets 403 and changes
nothing. The notification a call carries is named in the signed URL. A key goes through the
actions door under the call's id (``monitor.actions.call_answers``): a replayed request
changes nothing, and a progress report only ever moves a call forward.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from monitor.actions.call_answers import CallAnswers, CallTurn
from monitor.actions.responses import ReplyOutcome
from monitor.core.effects import Effects, commit_then_apply
from monitor.notify.channels import providers_of
from monitor.notify.requests import VOICE
from monitor.notify.texts import call_goodbye
from monitor.notify.voice import twiml
from monitor.notify.voice.call_status import answered_by_machine
from monitor.notify.voice.paths import GATHER_PATH, NOTIFICATION, call_url
from monitor.web.context import WebContext
from monitor.web.hooks.twilio_hooks import verified_form

log = logging.getLogger("callwatch.web.voice")


async def _verified(request: Request) -> tuple[WebContext, dict[str, str]] | Response:
    """The service's context and the request's fields if Twilio signed them; else the refusal
    (counted with the keys: a forged call request is someone trying to take an alert)."""
    context: WebContext = request.app.state.context
    params = await verified_form(request, forged=context.metrics.call_keys)
    return params if isinstance(params, Response) else (context, params)


def _notification_id(request: Request) -> int | None:
    raw = request.query_params.get(NOTIFICATION, "")
    return int(raw) if raw.isdigit() else None


def _twiml(request: Request, notification_id: int, turn: CallTurn) -> Response:
    context: WebContext = request.app.state.context
    if turn.message is None:
        body = twiml.hanging_up()
    elif turn.ask:
        body = twiml.asking(
            turn.message,
            turn.language,
            goodbye=call_goodbye(turn.language),
            gather_url=call_url(context.settings.web.public_url, GATHER_PATH, notification_id),
            key_wait_s=context.settings.voice.key_wait_s,
        )
    else:
        body = twiml.saying(turn.message, turn.language)
    return Response(body, media_type="text/xml")


async def call_answered(request: Request) -> Response:
    """Twilio asks what to say: the call was answered (by a person, or a machine that hears nothing)."""
    verified = await _verified(request)
    if isinstance(verified, Response):
        return verified
    context, params = verified
    notification_id = _notification_id(request)
    if notification_id is None:
        return Response("notification missing", status_code=400)
    if answered_by_machine(params.get("AnsweredBy")):
        # Its status callback records the call as not reached; a voicemail gets no message.
        log.info("call %s answered by a machine: hung up", params.get("CallSid", ""))
        return _twiml(request, notification_id, CallTurn(None))
    async with context.database.read() as session:
        turn = await CallAnswers(context.replies).answered(session, notification_id)
    return _twiml(request, notification_id, turn)


async def key_pressed(request: Request) -> Response:
    """A key pressed on a call: 1 takes the alert, 2 cannot go, anything else repeats the message."""
    verified = await _verified(request)
    if isinstance(verified, Response):
        return verified
    context, params = verified
    notification_id, call_sid = _notification_id(request), params.get("CallSid", "")
    if notification_id is None or not call_sid:
        return Response("notification or CallSid missing", status_code=400)
    key = params.get("Digits", "")[:1]
    answers = CallAnswers(context.replies)

    async def press(session: AsyncSession, effects: Effects) -> tuple[CallTurn, ReplyOutcome | None]:
        assert notification_id is not None
        return await answers.pressed(session, effects, notification_id, call_sid, key, context.clock.now())

    turn, outcome = await commit_then_apply(context.database, context.after_commit, press, urgent=True)
    context.metrics.call_keys.labels(outcome=outcome.value if outcome is not None else "repeat").inc()
    log.info("call %s: key %r: %s", call_sid, key, outcome.value if outcome is not None else "repeat")
    return _twiml(request, notification_id, turn)


async def call_status(request: Request) -> Response:
    """A call's progress (ringing, answered, completed, busy, no-answer, failed, canceled)."""
    verified = await _verified(request)
    if isinstance(verified, Response):
        return verified
    context, params = verified
    voice = next(iter(providers_of(context.channels, VOICE)), None)
    report = voice.delivery_report(params, context.clock.now()) if voice is not None else None
    if report is None:
        return Response("CallSid and a known CallStatus required", status_code=400)
    await context.delivery_reports.submit(report)
    context.metrics.calls.labels(outcome=report.error_code or report.status).inc()
    return Response(status_code=204)
