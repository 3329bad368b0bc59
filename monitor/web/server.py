"""uvicorn inside the monitor's own event loop, as an async context manager.

The monitor handles SIGTERM/SIGINT itself, so uvicorn must not install its own handlers.
Proxy headers are read from ``trusted_proxies`` alone (``[web] trusted_proxies``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Protocol, runtime_checkable

import uvicorn
from starlette.types import ASGIApp

from monitor.core.errors import UserError


@runtime_checkable
class HasStreams(Protocol):
    """An app holding long-lived responses (the console's event streams) to end at shutdown."""

    def close_streams(self) -> None: ...


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WebServer:
    """Serves ``app`` on ``host:port`` (port 0 picks a free one; see ``port`` after start)."""

    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        setting: str = "[web] listen",
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)
        self.host = host
        self.requested_port = port
        self.setting = setting
        self.port = port
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WebServer:
        listener = self._bind()
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=logging.WARNING,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=3,
            # X-Forwarded-For/-Proto from the proxies in ``[web] trusted_proxies`` only (uvicorn's
            # own default trusts 127.0.0.1, i.e. any local client could pick its address).
            proxy_headers=bool(self.trusted_proxies),
            forwarded_allow_ips=self.trusted_proxies,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise UserError(f"{self.setting}: the web server on {self.host}:{self.port} did not start.")
            await asyncio.sleep(0.01)
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.requested_port))
        except OSError as exc:
            listener.close()
            raise UserError(
                f"{self.setting}: cannot listen on {self.host}:{self.requested_port} ({exc.strerror}); "
                "stop whatever uses that port or choose another."
            ) from None
        listener.listen(128)
        listener.setblocking(False)
        return listener

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None and self._task is not None:
            if isinstance(self.app, HasStreams):
                self.app.close_streams()  # or uvicorn would wait out its graceful timeout for them
            self._server.should_exit = True
            await self._task
        self._server = None
        self._task = None
