"""Operations endpoints: /healthz for the service manager and load balancer, /metrics for Prometheus."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.alerts.lifecycle import AlertState
from monitor.core.deadline import finish_within
from monitor.store.database import is_unavailable
from monitor.store.models import Alert
from monitor.web.context import WebContext

DATABASE_CHECK_S = 2.0


async def healthz(request: Request) -> Response:
    context: WebContext = request.app.state.context
    try:
        # Not wait_for: cancelling a call to a database that hangs can hang too, and /healthz must answer.
        await finish_within(context.database.ping(), DATABASE_CHECK_S)
    except Exception as exc:
        context.health.mark("database", ok=False, detail=f"{type(exc).__name__}: {exc}"[:300], reporter="ping")
    else:
        context.health.mark("database", ok=True, detail="answers", reporter="ping")
    # 503 takes the node out of a load balancer: only when it cannot do its job, not while one
    # SMS provider of several is down and the next carries the messages ("degraded", 200).
    return JSONResponse(context.health.report(), status_code=200 if context.health.serving else 503)


async def metrics(request: Request) -> Response:
    context: WebContext = request.app.state.context
    try:
        async with context.database.read() as session:
            rows = (await session.execute(select(Alert.state, func.count()).group_by(Alert.state))).all()
        counts = {state: count for state, count in rows}
        for state in AlertState:
            context.metrics.alerts_by_state.labels(state=state.value).set(counts.get(state.value, 0))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        context.health.mark("database", ok=False, detail=f"{type(exc).__name__}: {exc}"[:300], reporter="ping")
    return Response(context.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
