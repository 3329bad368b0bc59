"""The Starlette application: routes only; the handlers live in their own modules."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from monitor.web import api, ops, twilio_hooks
from monitor.web.context import WebContext


def create_app(context: WebContext) -> Starlette:
    app = Starlette(
        routes=[
            Route("/twilio/sms", twilio_hooks.inbound_sms, methods=["POST"]),
            Route("/twilio/status", twilio_hooks.status_callback, methods=["POST"]),
            Route("/healthz", ops.healthz, methods=["GET"]),
            Route("/metrics", ops.metrics, methods=["GET"]),
            Route("/api/alerts", api.alerts, methods=["GET"]),
            Route("/api/alerts/{alert_id:int}/ack", api.acknowledge, methods=["POST"]),
            Route("/api/alerts/{alert_id:int}/resolve", api.resolve, methods=["POST"]),
        ]
    )
    app.state.context = context
    return app
