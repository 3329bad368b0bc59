"""Operations endpoints: /healthz for the service manager and load balancer, /metrics for Prometheus."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.alerts.lifecycle import AlertState
from monitor.store.models import Alert
from monitor.web.context import WebContext

DATABASE_CHECK_S = 2.0


async def healthz(request: Request) -> Response:
    context: WebContext = request.app.state.context
    try:
        await asyncio.wait_for(context.database.ping(), timeout=DATABASE_CHECK_S)
    except Exception as exc:
        context.health.mark("database", ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    else:
        context.health.mark("database", ok=True, detail="ok")
    return JSONResponse(context.health.report(), status_code=200 if context.health.ok else 503)


async def metrics(request: Request) -> Response:
    context: WebContext = request.app.state.context
    try:
        async with context.database.read() as session:
            counts = dict((await session.execute(select(Alert.state, func.count()).group_by(Alert.state))).tuples())
        for state in AlertState:
            context.metrics.alerts_by_state.labels(state=state.value).set(counts.get(state.value, 0))
    except Exception as exc:
        context.health.mark("database", ok=False, detail=f"{type(exc).__name__}: {exc}"[:300])
    return Response(context.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
