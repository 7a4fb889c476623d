"""The services' Prometheus metrics, and the HTTP server that exposes them on a port of their own.

The metrics are served on ``METRICS_PORT`` (8001), never on the public port: a reverse proxy that
forwards the api's port cannot expose them. With several uvicorn workers (``WEB_CONCURRENCY``)
each process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` and the server adds them up
(prometheus-client's multiprocess mode), so a scrape sees the whole instance.
"""

import os
import tempfile
from functools import cache
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Request latencies: 5 ms to 10 s, denser where a healthy service answers.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Jobs run from milliseconds to the job timeout (minutes).
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class Metrics:
    """Every metric the services export, registered in one registry.

    ``registry.get_sample_value("http_requests_total", {...})`` reads a value back (tests).
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.http_in_flight = Gauge(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.backend_failures = Counter(
            "backend_failures",
            "Calls to a backend that failed, by component and kind (timeout: no answer in time)",
            ["component", "kind"],
            registry=registry,
        )
        self.db_pool_in_use = Gauge(
            "db_pool_connections_in_use",
            "Database connections checked out of the pool",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.db_pool_size = Gauge(
            "db_pool_connections_max",
            "The most connections the pools may hold",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.jobs_enqueued = Counter(
            "jobs_enqueued", "Jobs handed to the queue, by job", ["job"], registry=registry
        )
        self.jobs_started = Counter(
            "jobs_started", "Jobs a worker began, by job", ["job"], registry=registry
        )
        self.jobs_finished = Counter(
            "jobs_finished",
            "Jobs a worker finished, by job and outcome (success, failure)",
            ["job", "outcome"],
            registry=registry,
        )
        self.job_duration = Histogram(
            "job_duration_seconds",
            "Time a job ran, by job and outcome",
            ["job", "outcome"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )


@cache
def process_metrics() -> Metrics:
    """The metrics of this process (in the default registry), created once."""
    return Metrics()


def prepare_multiprocess(directory: Path | None = None) -> Path:
    """Make the processes this one starts write their metrics to a directory the server reads.

    Call it before any metric exists and before the worker processes start (they inherit the
    variable); it empties the directory, which must not hold a dead run's values.
    """
    path = directory or Path(tempfile.mkdtemp(prefix="metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_DIR] = str(path)
    return path


def serve_metrics(host: str, port: int) -> None:
    """Serve ``/metrics`` on ``host:port`` in a background thread of this process (port 0: none)."""
    if not port:
        return
    registry = REGISTRY
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        msg = (
            f"Cannot serve metrics on {host}:{port} ({exc.strerror}): set METRICS_PORT to a free "
            "port, or 0 for no metrics."
        )
        raise SystemExit(msg) from None
