"""The Starlette application: routes only; the handlers live in their own modules."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.actions.console import ConsoleActions
from monitor.notify.voice.paths import GATHER_PATH, STATUS_PATH, TWIML_PATH
from monitor.users.passwords import Passwords
from monitor.web import ops, refusals
from monitor.web.api import json_api
from monitor.web.api.openapi import openapi_document
from monitor.web.context import WebContext
from monitor.web.hooks import aliyun_hooks, twilio_hooks, voice_hooks
from monitor.web.pages import (
    account_pages,
    alert_pages,
    board_pages,
    camera_pages,
    directory_pages,
    health_banner,
    monitor_pages,
    oncall_pages,
    report_pages,
    responder_pages,
    signin,
    user_pages,
)
from monitor.web.pages.board_stream import LiveStreams
from monitor.web.rendering import STATIC, Renderer
from monitor.web.security import SecurityHeaders
from monitor.web.services import ConsoleServices, Cookies


class CallwatchApp(Starlette):
    """The app, plus a way for the server to end the live streams before it stops."""

    def close_streams(self) -> None:
        services: ConsoleServices = self.state.services
        services.streams.close()


async def _directory_home(request: Request) -> Response:
    return RedirectResponse("/directory/residents", status_code=307)


def routes() -> list[BaseRoute]:
    alert = "/alerts/{alert_id:int}"
    section = "/directory/{section}"
    return [
        Route("/twilio/sms", twilio_hooks.inbound_sms, methods=["POST"]),
        Route("/twilio/status", twilio_hooks.status_callback, methods=["POST"]),
        Route(aliyun_hooks.SMS_UP_PATH + "{token}", aliyun_hooks.sms_up, methods=["POST"]),
        Route(aliyun_hooks.SMS_REPORT_PATH + "{token}", aliyun_hooks.sms_report, methods=["POST"]),
        Route(TWIML_PATH, voice_hooks.call_answered, methods=["POST"]),
        Route(GATHER_PATH, voice_hooks.key_pressed, methods=["POST"]),
        Route(STATUS_PATH, voice_hooks.call_status, methods=["POST"]),
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
        # the console
        Route("/login", signin.sign_in_page, methods=["GET"]),
        Route("/login", signin.sign_in, methods=["POST"]),
        Route("/logout", signin.sign_out, methods=["POST"]),
        Route("/", board_pages.board_page, methods=["GET"]),
        Route("/board/rows", board_pages.board_rows, methods=["GET"]),
        Route("/events", board_pages.board_events, methods=["GET"]),
        Route(alert, alert_pages.alert_page, methods=["GET"]),
        Route(f"{alert}/ack", alert_pages.acknowledge, methods=["POST"]),
        Route(f"{alert}/escalate", alert_pages.escalate, methods=["POST"]),
        Route(f"{alert}/reassign", alert_pages.reassign, methods=["POST"]),
        Route(f"{alert}/arrived", alert_pages.mark_arrived, methods=["POST"]),
        Route(f"{alert}/note", alert_pages.add_note, methods=["POST"]),
        Route(f"{alert}/resolve", alert_pages.resolve, methods=["POST"]),
        Route(f"{alert}/camera", alert_pages.open_camera, methods=["POST"]),
        Route(camera_pages.CAMERA_PATH + "{secret}", camera_pages.follow_camera_link, methods=["GET"]),
        Route("/r/{token}", responder_pages.responder_page, methods=["GET"]),
        Route("/r/{token}", responder_pages.responder_act, methods=["POST"]),
        Route("/directory", _directory_home, methods=["GET"]),
        Route(section, directory_pages.list_page, methods=["GET"]),
        Route(f"{section}/export.csv", directory_pages.export_csv, methods=["GET"]),
        Route(f"{section}/import", directory_pages.import_sheet, methods=["POST"]),
        Route(f"{section}/new", directory_pages.new_page, methods=["GET"]),
        Route(f"{section}/new", directory_pages.create, methods=["POST"]),
        Route(section + "/{entry_id}/edit", directory_pages.edit_page, methods=["GET"]),
        Route(section + "/{entry_id}/edit", directory_pages.update, methods=["POST"]),
        Route(section + "/{entry_id}/retire", directory_pages.retire_page, methods=["GET"]),
        Route(section + "/{entry_id}/retire", directory_pages.confirm_retire, methods=["POST"]),
        Route(section + "/{entry_id}/erase", directory_pages.erase_page, methods=["GET"]),
        Route(section + "/{entry_id}/erase", directory_pages.confirm_erase, methods=["POST"]),
        Route("/oncall", oncall_pages.oncall_page, methods=["GET"]),
        Route("/api/oncall", oncall_pages.oncall_json, methods=["GET"]),
        Route("/reports", report_pages.report_page, methods=["GET"]),
        Route("/monitors", monitor_pages.monitors_page, methods=["GET"]),
        Route("/reports/chart.svg", report_pages.chart, methods=["GET"]),
        Route("/reports/report.csv", report_pages.export_csv, methods=["GET"]),
        Route("/users", user_pages.list_page, methods=["GET"]),
        Route("/users", user_pages.create, methods=["POST"]),
        Route("/users/{name}", user_pages.edit_page, methods=["GET"]),
        Route("/users/{name}", user_pages.update, methods=["POST"]),
        Route("/users/{name}/password", user_pages.reset_password, methods=["POST"]),
        Route("/audit", user_pages.audit_page, methods=["GET"]),
        Route("/account", account_pages.account_page, methods=["GET"]),
        Route("/account", account_pages.update_profile, methods=["POST"]),
        Route("/account/password", account_pages.change_password, methods=["POST"]),
        Route("/account/tokens", account_pages.create_token, methods=["POST"]),
        Route("/account/tokens/{token_id:int}/revoke", account_pages.revoke, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        *json_api.routes(),
    ]


def create_app(context: WebContext) -> CallwatchApp:
    web = context.settings.web
    cookies = Cookies.for_url(web.public_url)
    app = CallwatchApp(
        routes=routes(),
        middleware=[Middleware(SecurityHeaders, tile_url=web.map_tile_url, https=cookies.secure)],
        exception_handlers={
            **refusals.HANDLERS,
            404: refusals.not_found,
            **dict.fromkeys(health_banner.DATABASE_AWAY, health_banner.database_away),
        },
    )
    app.state.context = context
    app.state.services = ConsoleServices(
        passwords=Passwords(),
        actions=ConsoleActions(context.actions),
        renderer=Renderer(ZoneInfo(context.settings.service.timezone)),
        streams=LiveStreams(),
        cookies=cookies,
    )
    app.state.openapi = openapi_document()
    return app
