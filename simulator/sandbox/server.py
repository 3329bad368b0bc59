"""Running an ASGI app with uvicorn inside the caller's event loop, as an async context manager."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp

#: How long in-flight requests get to finish when the server stops.
GRACEFUL_SHUTDOWN_S = 2
#: how long an idle client connection stays open (nginx and aiohttp also keep 75 s)
KEEP_ALIVE_S = 75


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host and says when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()
        self._exit_requested = asyncio.Event()

    def request_exit(self) -> None:
        self.should_exit = True
        self._exit_requested.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The host program (a test, the monitor, the CLI) owns SIGINT/SIGTERM.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()

    async def main_loop(self) -> None:
        # uvicorn polls should_exit every 0.1 s; waking on request_exit() stops tests sooner.
        # Each tick refreshes the Date header, as uvicorn's own loop does once a second.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._exit_requested.wait()


def _bound_socket(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so the port (even a free one picked by port=0) is known."""
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every response pays ~40 ms of Nagle + delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` (0 = a free port) until the block ends; yields the base URL."""
    sock = _bound_socket(host, port)
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,  # leave the host program's logging alone
        access_log=False,  # one line per request would cost the latency benchmark
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # uvicorn's own 5 s would close the clients' pooled connections just as a monitor that
        # was quiet for a few seconds reuses one (a request cut off: in doubt, resent a lease
        # later); a provider's API keeps them open far longer
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = EmbeddedServer(config)
    serve_task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="http server")
    try:
        listening = asyncio.ensure_future(server.listening.wait())
        try:
            await asyncio.wait({serve_task, listening}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            listening.cancel()
        if serve_task.done():
            serve_task.result()  # raises what made the start fail
            raise RuntimeError("the HTTP server stopped while starting")
        bound_host, bound_port = sock.getsockname()[:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.request_exit()
        await serve_task
        sock.close()
