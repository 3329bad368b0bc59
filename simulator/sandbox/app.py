"""The sandbox's ASGI app: Twilio's REST API, Alibaba Cloud's SMS API, the control API and the inbox page."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from simulator.sandbox.aliyun_api import AliyunSmsApi
from simulator.sandbox.control_api import ControlApi
from simulator.sandbox.core import SandboxCore
from simulator.sandbox.inbox_page import InboxPage
from simulator.sandbox.resources import API_VERSION
from simulator.sandbox.rest_api import TwilioRestApi, error_response
from simulator.sandbox.twilio_errors import method_not_allowed, resource_not_found


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in Twilio's error shape under the API's prefix."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(f"/{API_VERSION}/"):
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 405:
        return error_response(method_not_allowed(request.method))
    return error_response(resource_not_found(request.url.path))


def build_app(core: SandboxCore) -> Starlette:
    rest = TwilioRestApi(core.settings, core.store, core.exchange, core.faults, core.stopping, core.calls)
    aliyun = AliyunSmsApi(core.settings, core.store, core.exchange, core.faults, core.stopping)
    routes = [*rest.routes(), *aliyun.routes(), *ControlApi(core).routes(), *InboxPage(core).routes()]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
