"""``anpr serve`` in a child process, as a user starts it: for the load test and the tests.

The server picks a free port itself (``--port 0``) and prints it, so two servers never race for
one. Peak memory is the kernel's own high-water mark (``VmHWM``), not a sample that could miss
a spike between two looks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

LISTENING = re.compile(r"on http://(\S+):(\d+) ")


class ServerProcess:
    """``python -m anpr serve MODEL --port 0 ARGS...``; use as a context manager."""

    def __init__(self, model: str = "pretrained", args: Sequence[str] = (), env: dict | None = None) -> None:
        self.command = [sys.executable, "-m", "anpr", "serve", model, "--port", "0", *args]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log = tempfile.TemporaryFile(mode="w+")  # the server's stderr, shown when it fails

    def start(self, timeout_s: float = 90.0) -> ServerProcess:
        """Start and wait until ``/readyz`` says the model is warm."""
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=self.env, start_new_session=True
        )
        first_line: list[str] = []
        reader = threading.Thread(target=lambda: first_line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout_s)
        match = LISTENING.search(first_line[0]) if first_line else None
        if match is None:
            self.stop()
            raise RuntimeError(f"anpr serve did not start: {first_line[:1]} {self.stderr()[-3000:]}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # never let stdout fill up
        self.url = f"http://{match[1]}:{match[2]}"
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"anpr serve exited with {self.process.returncode}: {self.stderr()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as reply:
                    if json.loads(reply.read()).get("status") == "ready":
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"anpr serve not ready within {timeout_s:g} s: {self.stderr()[-3000:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_memory_bytes(self) -> int | None:
        """Peak resident memory of the server (and its worker processes), or None off Linux."""
        return peak_memory_bytes(self.pid)

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, then the exit code (the server finishes what is in flight first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        """Ends the server whatever state it is in (SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.terminate(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.close()


def peak_memory_bytes(pid: int) -> int | None:
    """``VmHWM`` of ``pid`` plus that of its child processes (``--workers``); None without /proc."""
    status = Path(f"/proc/{pid}/status")
    if not status.is_file():
        return None
    total = 0
    for process in [pid, *children(pid)]:
        try:
            text = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
        total += int(found[1]) * 1024 if found else 0
    return total


def children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []
