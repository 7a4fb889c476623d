import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from {{ cookiecutter.package_name }}_core.metrics import Metrics, process_metrics, serve_metrics


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_metric_names_and_labels() -> None:
    metrics = Metrics(CollectorRegistry())

    metrics.http_requests.labels("GET", "/notes/{note_id}", "200").inc()
    metrics.http_duration.labels("GET", "/notes/{note_id}").observe(0.02)
    metrics.backend_failures.labels("database", "timeout").inc(2)
    metrics.jobs_finished.labels("word_count", "success").inc()

    value = metrics.registry.get_sample_value
    request = {"method": "GET", "route": "/notes/{note_id}", "status": "200"}
    assert value("http_requests_total", request) == 1
    duration = {"method": "GET", "route": "/notes/{note_id}"}
    assert value("http_request_duration_seconds_count", duration) == 1
    assert value("backend_failures_total", {"component": "database", "kind": "timeout"}) == 2
    assert value("jobs_finished_total", {"job": "word_count", "outcome": "success"}) == 1
    assert value("http_requests_in_flight") == 0


def test_the_metrics_are_served_on_their_own_port() -> None:
    metrics = process_metrics()  # the default registry, as the services use it
    port = free_port()
    serve_metrics("127.0.0.1", port)
    metrics.jobs_enqueued.labels("served").inc()

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()

    assert 'jobs_enqueued_total{job="served"} 1.0' in text


def test_port_zero_serves_nothing() -> None:
    serve_metrics("127.0.0.1", 0)  # returns at once, binds nothing


WORKER_PROCESS = """
from prometheus_client import CollectorRegistry
from {{ cookiecutter.package_name }}_core.metrics import Metrics
metrics = Metrics(CollectorRegistry())
metrics.http_requests.labels("GET", "/x", "200").inc()
"""


def test_several_worker_processes_add_up(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):  # three uvicorn workers, each answering one request
        command = [sys.executable, "-c", WORKER_PROCESS]
        subprocess.run(command, env=env, check=True, timeout=60)  # noqa: S603 -- our own code

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))  # type: ignore[no-untyped-call]

    labels = {"method": "GET", "route": "/x", "status": "200"}
    assert registry.get_sample_value("http_requests_total", labels) == 3


@pytest.fixture(autouse=True)
def not_multiprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process keeps its metrics in memory whatever the environment says."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
