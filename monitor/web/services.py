"""The console's own services, made once per app and reached from handlers through the request."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from monitor.actions.console import ConsoleActions
from monitor.users.passwords import Passwords
from monitor.web.context import WebContext
from monitor.web.pages.board_stream import LiveStreams
from monitor.web.rendering import Renderer


@dataclass(frozen=True)
class Cookies:
    """Cookie names and flags: Secure (and the __Host- prefix) when the console is served over https."""

    secure: bool

    @property
    def session(self) -> str:
        return "__Host-callwatch_session" if self.secure else "callwatch_session"

    @property
    def sign_in(self) -> str:
        return "__Host-callwatch_signin" if self.secure else "callwatch_signin"

    @property
    def known_browser(self) -> str:
        return "__Host-callwatch_browser" if self.secure else "callwatch_browser"

    @classmethod
    def for_url(cls, public_url: str) -> Cookies:
        return cls(secure=urlsplit(public_url).scheme == "https")


@dataclass(frozen=True)
class ConsoleServices:
    passwords: Passwords
    actions: ConsoleActions
    renderer: Renderer
    streams: LiveStreams
    cookies: Cookies


def context_of(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context


def services_of(request: Request) -> ConsoleServices:
    services: ConsoleServices = request.app.state.services
    return services
