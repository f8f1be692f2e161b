"""Serve a FortnoxSandbox over real HTTP on loopback, in a thread (as the Pipedrive sandbox does)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .core import FortnoxSandbox


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def make(sandbox: FortnoxSandbox, port: int = 0, host: str = "127.0.0.1") -> WSGIServer:
    """A threading server for the sandbox, bound but not yet serving."""
    return make_server(host, port, sandbox.wsgi_app, server_class=_Threading, handler_class=_Quiet)


def serve_in_thread(sandbox: FortnoxSandbox, port: int = 0, host: str = "127.0.0.1") -> tuple[str, Callable[[], None]]:
    """Start serving in a daemon thread; returns (base_url, stop)."""
    server = make(sandbox, port, host)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fortnox-sandbox", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return f"http://{host}:{server.server_address[1]}", stop
