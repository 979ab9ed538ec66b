"""Starting and stopping: uvicorn on the settings' address, one process or ``--workers`` of them.

The socket is bound here, before uvicorn starts, so that a taken port is an ``OSError`` the
command reports in one line (uvicorn would log it and exit 1) and ``--port 0`` is known at once.
SIGTERM (or Ctrl-C) stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout_s``), drains the batch queue and returns normally, so ``anpr serve`` exits 0:
uvicorn re-raises the signal it caught once it has shut down, into the no-op handler set here.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from anpr.serve.app import build_app
from anpr.serve.protocol import HeaderDeadlineProtocol, ServeConfig
from anpr.serve.settings import ServeSettings
from anpr.serve.workers import run_workers


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (raises ``OSError`` when it cannot be had).

    Made with ``IPPROTO_TCP`` spelt out: asyncio sets ``TCP_NODELAY`` only on connections whose
    socket says so, and without it every answer (headers and body written apart) waited ~40 ms
    for the client's delayed ACK (48 ms per request from one client, measured; uvloop hides it).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def run(settings: ServeSettings, reader: Any = None, on_listening: Callable[[int], Any] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean stop. ``reader``: an already loaded reader
    (one process only); ``on_listening(port)`` is called once the socket accepts connections."""
    # A second guard behind the header check: OpenCV itself refuses images over the pixel limit.
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(settings.limits.max_pixels))
    sock = listen(settings.host, settings.port)
    if on_listening is not None:
        on_listening(sock.getsockname()[1])
    options = {
        "http": HeaderDeadlineProtocol,
        "header_timeout_s": settings.limits.read_timeout_s,
        "timeout_graceful_shutdown": max(1, round(settings.graceful_timeout_s)),
        "timeout_keep_alive": 5,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
    }
    if settings.workers > 1:
        return run_workers(settings, sock, options)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)  # what uvicorn restores, and re-raises into, after its shutdown
    uvicorn.Server(ServeConfig(build_app(settings, reader), **options)).run(sockets=[sock])
    return 0
