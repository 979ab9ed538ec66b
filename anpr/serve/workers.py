"""``--workers N``: N server processes accepting on one listening socket, each with its own model
and batch queue, under a parent that forwards SIGTERM and waits for them.

Children are spawned, not forked: a forked copy of a loaded ONNX Runtime or PyTorch thread pool
is not safe to use. (uvicorn's own supervisor is not used because its interface changes between
releases.)
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from typing import Any

from anpr.serve.settings import ServeSettings


def run_workers(settings: ServeSettings, sock: socket.socket, options: dict[str, Any]) -> int:
    """Run ``settings.workers`` processes until SIGTERM/SIGINT; 0 when all of them stopped cleanly."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    children = [context.Process(target=serve_one, args=(settings, sock, options)) for _ in range(settings.workers)]
    for child in children:
        child.start()
    while not stop.wait(0.5):
        if any(not child.is_alive() for child in children):  # one failed to start or died: stop all
            break
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: each finishes its in-flight requests
    for child in children:
        child.join(settings.graceful_timeout_s + 10)
        if child.is_alive():
            child.kill()
            child.join()
    return 0 if all(child.exitcode == 0 for child in children) else 1


def serve_one(settings: ServeSettings, sock: socket.socket, options: dict[str, Any]) -> None:
    """One worker process: its own app and model, uvicorn on the shared socket."""
    import uvicorn

    from anpr.serve.app import build_app
    from anpr.serve.protocol import ServeConfig

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)  # what uvicorn restores, and re-raises into, after its shutdown
    uvicorn.Server(ServeConfig(build_app(settings), **options)).run(sockets=[sock])
