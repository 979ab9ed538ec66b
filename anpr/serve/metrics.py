"""What ``GET /metrics`` shows, in Prometheus' text format: requests, images, errors by kind,
latency, batch sizes and the queue. Each app has its own registry, so several servers (tests)
in one process never share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 128)


class Metrics:
    """The server's counters; the routes and the batcher call the ``on_*`` methods."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("anpr_requests", "HTTP requests answered", ["endpoint", "status"], registry=r)
        self.latency = Histogram(
            "anpr_request_latency_seconds",
            "Time to answer a request",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.images = Counter("anpr_images", "Images received in read requests", registry=r)
        self.plates = Counter("anpr_plates_read", "Images read into a plate", registry=r)
        self.image_errors = Counter("anpr_image_errors", "Images refused, by kind", ["kind"], registry=r)
        self.request_errors = Counter("anpr_request_errors", "Requests refused, by kind", ["kind"], registry=r)
        self.review_flags = Counter("anpr_reads_flagged_review", "Reads below --min-confidence", registry=r)
        self.reviews = Counter("anpr_reviews_saved", "Reviewed crops saved, by decision", ["decision"], registry=r)
        self.batch_size = Histogram("anpr_batch_size", "Images per model call", buckets=BATCH_BUCKETS, registry=r)
        self.batch_seconds = Histogram(
            "anpr_batch_seconds", "Time of one model call with decoding", buckets=LATENCY_BUCKETS, registry=r
        )
        self.queued = Gauge("anpr_queued_images", "Images waiting for the model", registry=r)

    def on_request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def on_request_error(self, kind: str) -> None:
        self.request_errors.labels(kind).inc()

    def on_results(self, results: list[dict]) -> None:
        """Count one read request's per-image outcomes."""
        self.images.inc(len(results))
        for record in results:
            if "error" in record:
                self.image_errors.labels(record["error"]["kind"]).inc()
            else:
                self.plates.inc()
                if record.get("review"):
                    self.review_flags.inc()

    def on_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def on_review(self, decision: str) -> None:
        self.reviews.labels(decision).inc()

    def exposition(self, queued: int) -> bytes:
        self.queued.set(queued)
        return generate_latest(self.registry)
