"""A load test you can rerun: N concurrent clients on loopback, one real crop per request, for a
bounded time, against a server started here (or one already running).

The clients speak HTTP/1.1 over keep-alive sockets with requests built once, so on a small
machine they take as little CPU from the server as a client can; what they cost still counts
against the server's figures, which is why the machine and its load are printed with them.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class LoadResult:
    """What the clients saw, and the conditions they saw it in."""

    clients: int
    seconds: float
    requests: int = 0
    plates: int = 0
    errors: Counter = field(default_factory=Counter)  # kind (HTTP status, error kind, exception) -> count
    latencies: list[float] = field(default_factory=list)  # seconds per request
    peak_memory_bytes: int | None = None
    machine: str = ""
    load_before: str = ""
    server: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # who used the CPU while counting: seconds each

    @property
    def plates_per_second(self) -> float:
        return self.plates / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency at quantile ``q`` (nearest rank), in seconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def multipart_request(host: str, path: str, image: bytes, filename: str) -> bytes:
    """One POST /read request with one image, ready to write to a socket."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    return status, await reader.readexactly(length)


async def client(url: str, requests: list[bytes], offset: int, start: float, stop: float, result: LoadResult) -> None:
    """One client: a request, its answer, the next request, until ``stop`` (monotonic)."""
    parts = urlsplit(url)
    connection = None
    i = offset
    while time.monotonic() < stop:
        if connection is None:
            try:
                connection = await asyncio.open_connection(parts.hostname, parts.port)
            except OSError as err:
                result.errors[f"connect: {type(err).__name__}"] += 1
                await asyncio.sleep(0.05)
                continue
        reader, writer = connection
        sent = time.perf_counter()
        try:
            writer.write(requests[i % len(requests)])
            status, body = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            result.errors[f"connection: {type(err).__name__}"] += 1
            writer.close()
            connection = None
            continue
        took = time.perf_counter() - sent
        i += 1
        if time.monotonic() < start:  # warm-up: not counted
            continue
        result.requests += 1
        result.latencies.append(took)
        if status != 200:
            result.errors[f"HTTP {status}"] += 1
            continue
        records = json.loads(body)["results"]
        failed = [r["error"]["kind"] for r in records if "error" in r]
        result.errors.update(failed)
        result.plates += len(records) - len(failed)
    if connection is not None:
        connection[1].close()


async def drive(
    url: str,
    images: list[tuple[str, bytes]],
    clients: int,
    seconds: float,
    warmup_s: float,
    server_pid: int | None = None,
) -> LoadResult:
    """``clients`` concurrent clients for ``warmup_s`` uncounted, then ``seconds`` counted."""
    host = urlsplit(url).netloc
    requests = [multipart_request(host, "/read", data, name) for name, data in images]
    result = LoadResult(clients=clients, seconds=seconds)
    start = time.monotonic() + warmup_s
    stop = start + seconds
    tasks = [client(url, requests, k * len(requests) // clients, start, stop, result) for k in range(clients)]
    await asyncio.gather(account_cpu(start, stop, server_pid, result), *tasks)
    return result


async def account_cpu(start: float, stop: float, server_pid: int | None, result: LoadResult) -> None:
    """CPU time of the server, of these clients and of everything else over the counted window."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    before = (machine_busy_seconds(), process_cpu_seconds(server_pid), time.process_time())
    await asyncio.sleep(max(0.0, stop - time.monotonic()))
    after = (machine_busy_seconds(), process_cpu_seconds(server_pid), time.process_time())
    if None in before or None in after:
        return
    busy, server, clients = (b - a for a, b in zip(before, after))
    result.cpu = {"server": server, "clients": clients, "other processes": max(0.0, busy - server - clients)}


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores spent busy since boot (Linux), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of ``pid`` and its child processes (``--workers``), or None."""
    from anpr.serve.process import children

    if pid is None:
        return None
    total = 0.0
    for process in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load_images(images_dir: str | Path, limit: int = 1000) -> list[tuple[str, bytes]]:
    """Up to ``limit`` image files of a folder (name, bytes), in name order."""
    paths = sorted(p for p in Path(images_dir).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {images_dir}")
    return [(p.name, p.read_bytes()) for p in paths]


def machine() -> str:
    from anpr.bench.system import cpu_model

    return f"{cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def load_average_text() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def run_load_test(
    images_dir: str | Path,
    model: str = "pretrained",
    clients: int = 16,
    seconds: float = 60.0,
    warmup_s: float = 3.0,
    server_args: tuple[str, ...] = (),
    url: str | None = None,
    server_pid: int | None = None,
) -> LoadResult:
    """Start ``anpr serve MODEL SERVER_ARGS`` (unless ``url`` names a running server), drive it,
    stop it with SIGTERM, and return the figures. ``server_pid``: whose memory to report with ``url``."""
    from anpr.serve.process import ServerProcess, peak_memory_bytes

    images = load_images(images_dir)
    load_before = load_average_text()
    if url is not None:
        result = asyncio.run(drive(url, images, clients, seconds, warmup_s, server_pid))
        result.peak_memory_bytes = peak_memory_bytes(server_pid) if server_pid else None
        result.server = url
    else:
        with ServerProcess(model, server_args) as server:
            result = asyncio.run(drive(server.url, images, clients, seconds, warmup_s, server.pid))
            result.peak_memory_bytes = server.peak_memory_bytes()
            code = server.terminate()
            if code != 0:
                result.errors[f"server exit code {code}"] += 1
        result.server = " ".join(["anpr serve", model, *server_args])
    result.machine, result.load_before = machine(), load_before
    return result


def report(result: LoadResult, images_dir: str | Path) -> str:
    """The result as the Markdown the docs show."""
    memory = "n/a" if result.peak_memory_bytes is None else f"{result.peak_memory_bytes / 2**20:.0f} MiB"
    errors = sum(result.errors.values())
    lines = [
        f"- server: `{result.server}`",
        f"- clients: {result.clients} concurrent, one crop per request, keep-alive, on loopback; "
        f"{result.seconds:g} s counted after a warm-up; crops from `{images_dir}`",
        f"- machine: {result.machine}; load average before the run: {result.load_before}",
        "",
        "| clients | requests | plates/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | server peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result.clients} | {result.requests} | {result.plates_per_second:.0f} | "
        f"{result.percentile(0.50) * 1e3:.1f} | {result.percentile(0.95) * 1e3:.1f} | "
        f"{result.percentile(0.99) * 1e3:.1f} | {errors} | {memory} |",
    ]
    if result.cpu:
        used = ", ".join(f"{who} {cpu / result.seconds:.2f}" for who, cpu in result.cpu.items())
        lines.insert(3, f"- CPU while counting, in cores busy on average: {used} (of {os.cpu_count()})")
    if result.errors:
        lines += ["", "errors: " + ", ".join(f"{kind} x{n}" for kind, n in result.errors.most_common())]
    return "\n".join(lines)
