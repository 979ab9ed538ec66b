"""Starting and stopping: uvicorn on the settings' address, one process or ``--workers`` of them.

The socket is bound here, before uvicorn starts, so that a taken port is an ``OSError`` the
command reports in one line (uvicorn would log it and exit 1) and ``--port 0`` is known at once.
SIGTERM (or Ctrl-C) stops accepting connections, lets in-flight requests finish (up to
``graceful_timeout_s``), drains the batch queue and returns normally, so ``anpr serve`` exits 0:
uvicorn re-raises the signal it caught once it has shut down, into the no-op handler set here.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from anpr.serve.app import build_app
from anpr.serve.protocol import HeaderDeadlineProtocol, ServeConfig
from anpr.serve.settings import Batching, Decoding, Limits, ServeSettings

SETTINGS_VARIABLE = "ANPR_SERVE_SETTINGS"  # how --workers processes receive the settings


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (raises ``OSError`` when it cannot be had)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def run(settings: ServeSettings, reader: Any = None, on_listening: Callable[[int], Any] | None = None) -> None:
    """Serve until SIGTERM/SIGINT. ``reader``: an already loaded reader (one process only);
    ``on_listening(port)`` is called once the socket accepts connections."""
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
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)  # what uvicorn restores, and re-raises into, after its shutdown
    if settings.workers > 1:
        os.environ[SETTINGS_VARIABLE] = settings_to_json(settings)
        app = "anpr.serve.server:app_from_environment"
        config = ServeConfig(app, factory=True, workers=settings.workers, **options)
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
    else:
        config = ServeConfig(build_app(settings, reader), **options)
        uvicorn.Server(config).run(sockets=[sock])


def app_from_environment():
    """The app of one ``--workers`` process, each loading its own model."""
    return build_app(settings_from_json(os.environ[SETTINGS_VARIABLE]))


def settings_to_json(settings: ServeSettings) -> str:
    data = dataclasses.asdict(settings)
    data["review_dir"] = None if settings.review_dir is None else str(settings.review_dir)
    return json.dumps(data)


def settings_from_json(text: str) -> ServeSettings:
    data = json.loads(text)
    return ServeSettings(
        **{
            **data,
            "review_dir": None if data["review_dir"] is None else Path(data["review_dir"]),
            "limits": Limits(**data["limits"]),
            "batching": Batching(**data["batching"]),
            "decoding": Decoding(**data["decoding"]),
        }
    )
