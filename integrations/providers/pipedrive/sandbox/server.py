"""Serve a sandbox (or a SandboxRouter) over real HTTP on loopback, in a thread."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .faults import ConnectionDropped

HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    def get_environ(self) -> dict:
        environ = super().get_environ()
        environ["sandbox.connection"] = self.connection
        return environ

    def get_stderr(self) -> io.StringIO:
        # A dropped-connection fault makes wsgiref print a traceback; it is expected, not news.
        return io.StringIO()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _dropping(app: Callable) -> Callable:
    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except ConnectionDropped:
            environ["sandbox.connection"].shutdown(socket.SHUT_RDWR)
            return []

    return wrapped


def make_server(target: Any, port: int = 0, host: str = HOST) -> WSGIServer:
    """A threading WSGI server for ``target.wsgi_app``, bound but not yet serving."""
    server = _ThreadingServer((host, port), _QuietHandler)
    server.set_app(_dropping(target.wsgi_app))
    return server


def base_url_of(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"


def serve_in_thread(target: Any, port: int = 0, host: str = HOST) -> tuple[str, Callable[[], None]]:
    """Start serving in a daemon thread; returns (base_url, stop)."""
    server = make_server(target, port, host)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="pipedrive-sandbox", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return base_url_of(server), stop
