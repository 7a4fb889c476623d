"""What the running system tells about itself: its log lines, its metrics, its traces.

The processes were started here (``system``): their log lines are read from their output (JSON,
one object a line), their metrics scraped from their metrics ports and parsed with
prometheus-client's own parser, their spans taken from the OTLP receiver they export to.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.otlp import {% if not cookiecutter.with_worker %}ReceivedSpan, {% endif %}Receiver
from tests.harness.processes import Process, System

# Every line has these; request_id, job_id, trace_id and span_id where they exist.
LINE_KEYS = {"time", "level", "logger", "message", "service"}
WAIT_SECONDS = 20
SERVICE_PREFIX = "{{ cookiecutter.project_slug }}-"
# A scrape: (sample name, labels) -> value.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def log_lines(process: Process) -> list[dict[str, Any]]:
    """The process's log lines, each parsed as JSON (a line that is not JSON fails the test)."""
    lines = []
    for line in process.lines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError as exc:
            msg = f"{process.name} wrote a line that is not JSON: {line!r}"
            raise AssertionError(msg) from exc
    return lines


def scrape(process: Process) -> Samples:
    """The process's metrics: (sample name, labels) -> value."""
    text = httpx.get(process.metrics_url, timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(metrics: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 when it has not been exported yet."""
    return metrics.get((name, frozenset(labels.items())), 0.0)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition`` holds (logs and spans arrive a little after the response)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_SECONDS}s"
        await asyncio.sleep(0.1)


async def test_every_log_line_is_json_with_the_common_fields(
    system: System, client: httpx.AsyncClient
) -> None:
    await client.get("/health/live")

    for process in system.processes:
        lines = log_lines(process)
        assert lines, process.name
        for line in lines:
            assert set(line) >= LINE_KEYS, (process.name, line)
        assert all(line["service"] == f"{SERVICE_PREFIX}{process.name}" for line in lines)


async def test_a_valid_request_id_is_kept_and_an_invalid_one_replaced(
    system: System, client: httpx.AsyncClient
) -> None:
    kept = f"e2e-{uuid.uuid4()}"
    given = await client.get("/notes", headers={"x-request-id": kept})
    replaced = await client.get("/notes", headers={"x-request-id": "bad id; DROP TABLE"})
    missing = await client.get(f"/notes/{uuid.uuid4()}")  # a 404 carries one too

    assert given.headers["x-request-id"] == kept
    assert replaced.headers["x-request-id"] not in ("", "bad id; DROP TABLE")
    assert missing.status_code == 404
    assert missing.headers["x-request-id"]

    def logged() -> bool:
        ids = {line.get("request_id") for line in log_lines(system.api)}
        return {kept, replaced.headers["x-request-id"], missing.headers["x-request-id"]} <= ids

    await eventually(logged, "the access log lines with the request ids")
    access = [line for line in log_lines(system.api) if line.get("request_id") == kept]
    assert any(line.get("route") == "/notes" and line.get("status") == 200 for line in access)


async def test_the_metrics_count_the_requests_made(
    system: System, client: httpx.AsyncClient
) -> None:
    note = (await client.post("/notes", json={"title": f"metrics {uuid.uuid4()}"})).json()
    labels = {"method": "GET", "route": "/notes/{note_id}", "status": "200"}
    before = sample(scrape(system.api), "http_requests_total", **labels)

    for _ in range(5):
        assert (await client.get(f"/notes/{note['id']}")).status_code == 200

    after = scrape(system.api)
    assert sample(after, "http_requests_total", **labels) == before + 5
    duration = {"method": "GET", "route": "/notes/{note_id}"}
    assert sample(after, "http_request_duration_seconds_count", **duration) >= 5
    assert sample(after, "http_requests_in_flight") == 0
{%- if cookiecutter.database == 'postgres' %}
    assert sample(after, "db_pool_connections_max") > 0
{%- endif %}
{%- if cookiecutter.with_worker %}


async def finished_job(client: httpx.AsyncClient, request_id: str) -> tuple[str, dict[str, Any]]:
    """Queue a word count with ``request_id``; its id and final state, once it has run."""
    accepted = await client.post(
        "/jobs/word-count", json={"text": "one two two"}, headers={"x-request-id": request_id}
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["x-request-id"] == request_id
    job_id = str(accepted.json()["job_id"])
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        state: dict[str, Any] = (await client.get(accepted.headers["location"])).json()
        if state["status"] in ("complete", "failed") or time.monotonic() > deadline:
            return job_id, state
        await asyncio.sleep(0.1)


async def test_a_request_id_travels_from_the_response_into_the_jobs_log_lines(
    system: System, client: httpx.AsyncClient
) -> None:
    request_id = f"e2e-{uuid.uuid4()}"

    job_id, state = await finished_job(client, request_id)

    assert state["status"] == "complete", state

    def worker_logged() -> bool:
        return any(
            line.get("request_id") == request_id and line.get("job_id") == job_id
            for line in log_lines(system.worker)
        )

    await eventually(worker_logged, "the worker's log line for the job")
    api_lines = [line for line in log_lines(system.api) if line.get("request_id") == request_id]
    assert any(line.get("route") == "/jobs/word-count" for line in api_lines)


async def test_the_worker_counts_its_jobs(system: System, client: httpx.AsyncClient) -> None:
    labels = {"job": "word_count", "outcome": "success"}
    before = sample(scrape(system.worker), "jobs_finished_total", **labels)
    enqueued = sample(scrape(system.api), "jobs_enqueued_total", job="word_count")

    _, state = await finished_job(client, f"e2e-{uuid.uuid4()}")

    assert state["status"] == "complete"
    worker = scrape(system.worker)
    assert sample(worker, "jobs_finished_total", **labels) == before + 1
    assert sample(worker, "job_duration_seconds_count", **labels) >= 1
    assert sample(scrape(system.api), "jobs_enqueued_total", job="word_count") == enqueued + 1


async def test_a_request_and_its_job_arrive_as_one_trace(
    system: System, client: httpx.AsyncClient, traces: Receiver
) -> None:
    _, state = await finished_job(client, f"e2e-{uuid.uuid4()}")
    assert state["status"] == "complete"

    def job_span_arrived() -> bool:
        return any(span.name == "job word_count" for span in traces.spans)

    await eventually(job_span_arrived, "the job's span")
    job_span = next(span for span in traces.spans if span.name == "job word_count")
    trace = [span for span in traces.spans if span.trace_id == job_span.trace_id]
    services = {span.service for span in trace}
    assert services == {f"{SERVICE_PREFIX}api", f"{SERVICE_PREFIX}worker"}, trace
    roots = [span for span in trace if not span.parent_span_id]
    assert len(roots) == 1, trace
    request_span = roots[0]
    assert request_span.name == "POST /jobs/word-count"
    # The job's span hangs under the request's tree, not beside it.
    assert job_span.parent_span_id in {span.span_id for span in trace}
{%- else %}


async def test_a_request_arrives_as_a_trace(
    system: System, client: httpx.AsyncClient, traces: Receiver
) -> None:
    response = await client.get("/notes", headers={"x-request-id": f"e2e-{uuid.uuid4()}"})
    assert response.status_code == 200

    def roots() -> list[ReceivedSpan]:
        return [s for s in traces.spans if s.name == "GET /notes" and not s.parent_span_id]

    await eventually(lambda: bool(roots()), "the request's span")
    root = roots()[0]
    assert root.service == f"{SERVICE_PREFIX}api"
{%- if cookiecutter.database == 'postgres' %}
    # The database statements are spans of the same trace.
    trace = [span for span in traces.spans if span.trace_id == root.trace_id]
    assert any(span.name.startswith("SELECT") for span in trace), trace
{%- endif %}
{%- endif %}
