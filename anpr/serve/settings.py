"""Every knob of the server in one frozen object, with the defaults stated once (the command's
options show them), so limits are never scattered as literals through the routes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anpr.decoding.decoder import DEFAULT_DECODER, DEFAULT_MIN_VALID_RATIO
from anpr.grammar import FROM_MODEL

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server; anything past these is answered with a 4xx."""

    max_body_bytes: int = 16 * MB  # a whole request body (multipart or JSON)
    max_images: int = 64  # images in one request
    max_pixels: int = 20_000_000  # width x height of one image, read from its header before decoding
    read_timeout_s: float = 30.0  # to receive a request's headers, and again its body
    max_queued_images: int = 2048  # waiting for the model; past this requests get 503 (overloaded)


@dataclass(frozen=True)
class Batching:
    """Dynamic batching: concurrent requests' images share one model call."""

    max_batch_size: int = 32  # images per model call
    batch_timeout_s: float = 0.002  # an idle model waits this long for more images after the first


@dataclass(frozen=True)
class Decoding:
    """The reading options of ``anpr predict``, with the same meaning."""

    decoder: str = DEFAULT_DECODER
    grammar: str = FROM_MODEL
    min_valid_ratio: float = DEFAULT_MIN_VALID_RATIO
    n_best: int = 3
    min_confidence: float | None = 0.9  # reads below it are flagged 'review' and queued on the page
    views: tuple[str, ...] | None = None  # None: the model's (full, or a reader file's)
    second_look: bool = True  # a reader file's second look at doubtful crops (anpr.inference.second_look)

    def reader_options(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`anpr.inference.PlateReader.from_path`."""
        return {
            "decoder": self.decoder,
            "grammar": self.grammar,
            "min_valid_ratio": self.min_valid_ratio,
            "n_best": self.n_best,
            "views": self.views,
            **({} if self.second_look else {"second_look": None}),
        }


@dataclass(frozen=True)
class ServeSettings:
    """What ``anpr serve`` was started with."""

    model: str = "pretrained"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # server processes, each with its own model and batch queue
    # Model threads per process. One: the event loop needs a core too, and ONNX Runtime's extra
    # threads spin-wait between batches, taking it (measured: docs/serve.md).
    threads: int | None = 1
    review_dir: Path | None = None  # where reviewed crops are saved (a rec dataset); None: no saving
    token: str | None = None  # required by the review endpoints when given (and off loopback)
    graceful_timeout_s: float = 10.0  # SIGTERM: how long in-flight requests may take to finish
    limits: Limits = field(default_factory=Limits)
    batching: Batching = field(default_factory=Batching)
    decoding: Decoding = field(default_factory=Decoding)

    def problems(self) -> list[str]:
        """Why these settings cannot serve, one sentence each (empty when they can)."""
        found = []
        if not is_loopback(self.host) and self.review_dir is not None and not self.token:
            found.append(
                f"--host {self.host} is reachable from other machines and --review-dir writes files: "
                "give --token (or ANPR_SERVE_TOKEN), or serve on 127.0.0.1"
            )
        if not 0 <= self.port <= 65535:
            found.append(f"--port {self.port} is not a TCP port (0-65535)")
        for name, value in (
            ("--workers", self.workers),
            ("--max-batch-size", self.batching.max_batch_size),
            ("--max-images", self.limits.max_images),
            ("--max-body-mb", self.limits.max_body_bytes),
            ("--max-pixels", self.limits.max_pixels),
        ):
            if value < 1:
                found.append(f"{name} must be at least 1, got {value}")
        if self.batching.batch_timeout_s < 0:
            found.append(f"--batch-timeout must be >= 0 seconds, got {self.batching.batch_timeout_s}")
        if self.limits.read_timeout_s <= 0:
            found.append(f"--read-timeout must be > 0 seconds, got {self.limits.read_timeout_s}")
        if self.token is not None and len(self.token) < 8:
            found.append("--token must be at least 8 characters")
        return found


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
