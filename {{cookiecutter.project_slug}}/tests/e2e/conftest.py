"""End-to-end fixtures: the whole system, running, driven over real HTTP.

With ``E2E_BASE_URL`` set, the tests drive the system at that URL (a compose stack, a staging
deployment) and start nothing. Without it, they start the system here, as real processes:
{% if cookiecutter.database == 'postgres' %}
* the migrations: ``python -m {{ cookiecutter.package_name }}_api.migrate``;
{%- endif %}
* the api: ``python -m {{ cookiecutter.package_name }}_api`` (uvicorn) on 127.0.0.1 and a free port;
{%- if cookiecutter.with_worker %}
* the worker: ``python -m {{ cookiecutter.package_name }}_worker``;
{%- endif %}
{% if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
on the servers of the shared fixtures (the root ``conftest.py``, which checks them first),
{%- endif %}
then wait until ``/health/ready`` answers 200, and stop them after the last test with SIGTERM,
which lets them shut down cleanly.

Other variables:

* ``SYSTEM_STARTUP_TIMEOUT_SECONDS`` (default {{ '180' if cookiecutter.use_embedding_model else '90' }}): how long the api may take to become
  ready; after that the run stops and shows the processes' output.
* ``SYSTEM_COVERAGE_FILE`` (set by ``make test-e2e``): run the processes under ``coverage run``,
  writing their data next to this file, for ``reports/coverage-e2e.xml``.

The processes are started by ``tests/harness/processes.py``, which the fault tier shares. They
write JSON log lines to files the tests read (``system``), serve their metrics on ports of their
own, and send their traces to a receiver on loopback (``traces``).
"""

import os
from collections.abc import AsyncIterator, Iterator
from typing import NoReturn

import httpx
import pytest

from tests.harness.otlp import Receiver, otlp_receiver
from tests.harness.processes import StartupError, System, running_system

# Exit status of a run stopped because the system could not be started (pytest's "usage error").
NOT_STARTED = pytest.ExitCode.USAGE_ERROR


def stop_run(message: str) -> NoReturn:
    """End the session now with ``message``: one clear report instead of an error per test."""
    pytest.exit(message, returncode=NOT_STARTED)


def given_base_url() -> str:
    """``E2E_BASE_URL`` without a trailing slash; empty when the tests start the system."""
    return os.environ.get("E2E_BASE_URL", "").rstrip("/")


@pytest.fixture(scope="session")
def traces() -> Iterator[Receiver]:
    """The spans the started system sent (an OTLP/HTTP receiver on loopback)."""
    with otlp_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def started_system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, traces: Receiver
) -> Iterator[System | None]:
    """The system started here, or None when the tests drive ``E2E_BASE_URL``."""
    if given_base_url():
        yield None
        return
{%- if cookiecutter.database == 'postgres' %}
    request.getfixturevalue("database_url")  # stops the run at once when PostgreSQL is down
{%- endif %}
{%- if cookiecutter.__redis %}
    request.getfixturevalue("redis_url")  # stops the run at once when Redis is down
{%- endif %}
    # Traces to the receiver, each batch sent within 100 ms so a test need not wait long.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": traces.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    try:
        with running_system(tmp_path_factory.mktemp("e2e-logs"), env) as system:
            yield system
    except StartupError as exc:
        stop_run(str(exc))


@pytest.fixture(scope="session")
def base_url(started_system: System | None) -> str:
    """Where the system under test answers: ``E2E_BASE_URL``, or the one started here."""
    if started_system is not None:
        return started_system.base_url
    given = given_base_url()
    try:
        httpx.get(f"{given}/health/live", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        stop_run(f"E2E_BASE_URL={given} does not answer /health/live: {exc}")
    return given


@pytest.fixture
def system(started_system: System | None) -> System:
    """The processes started here: for the tests that read their logs, metrics and traces."""
    if started_system is None:
        pytest.skip("reads the logs, metrics and traces of processes the tests start themselves")
    return started_system


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the system under test."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client
