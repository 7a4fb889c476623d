"""SIGTERM and worse, for real: the processes stop the way a deployment stops them.

The api drains: requests in flight when SIGTERM arrives are answered (no 5xx, no reset), new
connections are refused, and it exits 0 within ``SHUTDOWN_TIMEOUT_SECONDS``.
{%- if cookiecutter.with_worker %} The worker loses no
accepted job: SIGTERM lets a running job finish; after SIGKILL the job stays queued and a new
worker runs it once its in-progress mark expires; a worker that stops running (SIGSTOP) fails its
health check within its interval.
{%- endif %}
"""

{% if cookiecutter.with_worker -%}
import asyncio
{% endif -%}
import json
import signal
{%- if cookiecutter.with_worker %}
import subprocess
import sys
{%- endif %}
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
{%- if cookiecutter.with_worker %}
from arq.connections import RedisSettings, create_pool
from arq.jobs import Job, JobStatus
{%- endif %}

{% if cookiecutter.with_worker -%}
from {{ cookiecutter.package_name }}_core.jobs import deserialize, serialize

{% endif -%}
from tests.faults.conftest import SLACK_SECONDS, Figures, deadline{% if cookiecutter.with_worker %}, wait_for{% endif %}
from tests.harness.processes import (
    Process,
    free_port,
    start_api,
{%- if cookiecutter.with_worker %}
    start_worker,
{%- endif %}
    startup_timeout,
    wait_until_ready,
)
{%- if cookiecutter.with_worker %}
from tests.harness.slow_worker import QUEUE, SLEEP_JOB
{%- endif %}

SHUTDOWN = deadline("SHUTDOWN_TIMEOUT_SECONDS")
{%- if cookiecutter.with_worker %}
JOB_TIMEOUT = deadline("JOB_TIMEOUT_SECONDS")
HEALTH_CHECK_INTERVAL = deadline("WORKER_HEALTH_CHECK_INTERVAL_SECONDS")
# arq marks a running job for the longest job timeout plus 10 s; then another worker may run it.
IN_PROGRESS_MARK = JOB_TIMEOUT + 10
{%- endif %}
# A request whose body takes this long to arrive is in flight when the signal comes.
UPLOAD_SECONDS = 1.5
# A keep-alive request sent this close to the signal may meet its connection closing (HTTP/1.1's
# race, which clients and proxies retry); one sent earlier must be answered.
KEEP_ALIVE_RACE_SECONDS = 0.1


@pytest.fixture
def api(fault_env: dict[str, str], log_dir: Path) -> Iterator[tuple[Process, str]]:
    """An api process of this test's own, ready, and its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start_api(log_dir, fault_env, port, name="api-to-stop")
    wait_until_ready(base_url, [process], startup_timeout())
    yield process, base_url
    process.stop()


def note_body(title: str) -> bytes:
    """A note's JSON body."""
    return json.dumps({"title": title, "body": "x" * 1000}).encode()


def slowly(body: bytes, pieces: int = 10) -> Iterator[bytes]:
    """``body`` in pieces, sent over :data:`UPLOAD_SECONDS`."""
    size = -(-len(body) // pieces)
    for start in range(0, len(body), size):
        yield body[start : start + size]
        time.sleep(UPLOAD_SECONDS / pieces)


def test_sigterm_drains_requests_in_flight_and_exits_in_time(
    api: tuple[Process, str], figures: Figures
) -> None:
    process, base_url = api
    titles = [f"in flight {uuid.uuid4()}" for _ in range(4)]
    load: list[tuple[float, int | str]] = []  # (when sent, status or error)

    def in_flight(title: str) -> httpx.Response:
        body = note_body(title)
        headers = {"content-type": "application/json", "content-length": str(len(body))}
        with httpx.Client(base_url=base_url, timeout=30) as client:
            return client.post("/notes", content=slowly(body), headers=headers)

    def keep_asking() -> None:
        # Keep-alive requests until the server turns them away (refuses or closes).
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while True:
                sent = time.monotonic()
                try:
                    load.append((sent, client.get("/health/live").status_code))
                except httpx.TransportError as exc:
                    load.append((sent, type(exc).__name__))
                    return

    with ThreadPoolExecutor(max_workers=8) as pool:
        askers = [pool.submit(keep_asking) for _ in range(2)]
        pending = [pool.submit(in_flight, title) for title in titles]
        time.sleep(UPLOAD_SECONDS / 3)
        started = time.monotonic()
        process.signal(signal.SIGTERM)
        responses = [future.result() for future in pending]
        status = process.wait(SHUTDOWN + SLACK_SECONDS)
        exited = time.monotonic() - started
        for asker in askers:
            asker.result()

    # Every request in flight at the signal was answered, in full, with success.
    assert [response.status_code for response in responses] == [201] * len(titles)
    assert sorted(response.json()["title"] for response in responses) == sorted(titles)
    # No load request failed on the server's side. Those turned away (refused, or closed on an idle
    # keep-alive connection) were sent as the shutdown began, not before it.
    assert all(outcome == 200 for _, outcome in load if isinstance(outcome, int)), load
    turned_away = [(sent - started, outcome) for sent, outcome in load if isinstance(outcome, str)]
    assert all(offset > -KEEP_ALIVE_RACE_SECONDS for offset, _ in turned_away), turned_away
    # uvicorn ends a clean shutdown by re-raising the signal: 0, or "terminated by SIGTERM".
    assert status in {0, -signal.SIGTERM}, process.output()
    figures.add("api SIGTERM, 4 uploads in flight", "POST notes (drained)", 201, exited)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/health/live", timeout=5)
{%- if cookiecutter.with_worker %}


@pytest.fixture
def redis_settings(redis_url: str) -> RedisSettings:
    """The real Redis (the worker tests need no proxy)."""
    return RedisSettings.from_dsn(redis_url)


@pytest.fixture
def slow_worker(fault_env: dict[str, str], redis_url: str, log_dir: Path) -> Iterator[Process]:
    """The real worker with the ``sleep`` job, on its own queue of the real Redis."""
    env = {**fault_env, "REDIS_URL": redis_url}
    process = start_worker(log_dir, env, module="tests.harness.slow_worker", name="slow-worker")
    yield process
    process.stop()


async def enqueue_sleep(settings: RedisSettings, seconds: float) -> str:
    """Queue a ``sleep`` job; its id."""
    redis = await create_pool(settings, job_serializer=serialize, job_deserializer=deserialize)
    try:
        job = await redis.enqueue_job(SLEEP_JOB, seconds, _queue_name=QUEUE)
        assert job is not None
        return job.job_id
    finally:
        await redis.aclose()


async def job_state(settings: RedisSettings, job_id: str) -> tuple[JobStatus, object]:
    """A job's status and, once it has finished, its result."""
    redis = await create_pool(settings, job_serializer=serialize, job_deserializer=deserialize)
    try:
        job = Job(job_id, redis, _queue_name=QUEUE, _deserializer=deserialize)
        state = await job.status()
        info = await job.result_info() if state is JobStatus.complete else None
        return state, (info.result if info is not None else None)
    finally:
        await redis.aclose()


def state_of(settings: RedisSettings, job_id: str) -> tuple[JobStatus, object]:
    return asyncio.run(job_state(settings, job_id))


def test_sigterm_lets_a_running_job_finish(
    slow_worker: Process, redis_settings: RedisSettings, figures: Figures
) -> None:
    job_id = asyncio.run(enqueue_sleep(redis_settings, 2))
    wait_for(
        lambda: state_of(redis_settings, job_id)[0] is JobStatus.in_progress,
        startup_timeout(),
        "the job starting",
    )
    signalled = time.monotonic()
    slow_worker.signal(signal.SIGTERM)

    status = slow_worker.wait(JOB_TIMEOUT + SLACK_SECONDS)
    exited = time.monotonic() - signalled

    assert status == 0, slow_worker.output()
    assert state_of(redis_settings, job_id) == (JobStatus.complete, "slept 2s")
    figures.add("worker SIGTERM mid-job", "job finishes, worker exits", status, exited)


def test_a_job_whose_worker_is_killed_runs_on_another(
    fault_env: dict[str, str],
    redis_url: str,
    slow_worker: Process,
    redis_settings: RedisSettings,
    log_dir: Path,
    figures: Figures,
) -> None:
    job_id = asyncio.run(enqueue_sleep(redis_settings, 1))
    wait_for(
        lambda: state_of(redis_settings, job_id)[0] is JobStatus.in_progress,
        startup_timeout(),
        "the job starting",
    )
    slow_worker.signal(signal.SIGKILL)
    slow_worker.wait(5)
    killed = time.monotonic()

    env = {**fault_env, "REDIS_URL": redis_url}
    other = start_worker(log_dir, env, module="tests.harness.slow_worker", name="other-worker")
    try:
        wait_for(
            lambda: state_of(redis_settings, job_id) == (JobStatus.complete, "slept 1s"),
            IN_PROGRESS_MARK + startup_timeout(),
            "the job running again",
        )
    finally:
        other.stop()
    figures.add("worker SIGKILL mid-job", "job runs on a new worker", 0, time.monotonic() - killed)


def test_a_wedged_worker_fails_its_health_check(
    slow_worker: Process, redis_url: str, figures: Figures
) -> None:
    env = {**slow_worker.env, "REDIS_URL": redis_url}

    def healthy() -> bool:
        check = subprocess.run(
            [sys.executable, "-m", "arq", "--check", "tests.harness.slow_worker.WorkerSettings"],
            env=env,
            capture_output=True,
            check=False,
            timeout=30,
        )
        return check.returncode == 0

    wait_for(healthy, startup_timeout(), "the first health check passing")
    slow_worker.signal(signal.SIGSTOP)  # alive, but doing nothing: like a wedged event loop
    try:
        noticed = wait_for(
            lambda: not healthy(), HEALTH_CHECK_INTERVAL + 1 + SLACK_SECONDS, "the check failing"
        )
    finally:
        slow_worker.signal(signal.SIGCONT)
    figures.add("worker wedged (SIGSTOP)", "arq --check fails", 1, noticed)
    wait_for(healthy, HEALTH_CHECK_INTERVAL + SLACK_SECONDS, "the check passing again")
{%- endif %}
