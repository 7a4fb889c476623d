"""Fault-tier fixtures: the system as real processes{% if cookiecutter.database == 'postgres' or cookiecutter.__redis %}, its backends behind TCP proxies{% endif %}.
{% if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
The api{% if cookiecutter.with_worker %} and the worker{% endif %} reach{% if cookiecutter.database == 'postgres' %} PostgreSQL{% endif %}{% if cookiecutter.database == 'postgres' and cookiecutter.__redis %} and{% endif %}{% if cookiecutter.__redis %} Redis{% endif %} (the real servers of the shared fixtures
in the root ``conftest.py``) only through a :class:`~tests.harness.proxy.TcpProxy` each, which the
tests stall, slow, cut and refuse while requests run.
{% endif %}
The processes run with the short deadlines of :data:`SETTINGS`, and every test holds them to
those figures: an answer within a deadline plus :data:`SLACK_SECONDS` (process and scheduling
overhead on a busy machine), never "eventually".

One system serves the whole tier; after each test the backends are restored and the tests wait
until the system is ready again{% if cookiecutter.with_worker %} (restarting a worker that exited, as its supervisor would){% endif %}.
Tests that stop processes start their own.
"""

{% if cookiecutter.database == 'postgres' -%}
import asyncio
{% endif -%}
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
{%- if cookiecutter.__redis %}
from urllib.parse import urlsplit
{%- endif %}

import httpx
import pytest
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import NullPool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

from tests.harness.processes import (
    StartupError,
    System,
    process_env,
    running_system,
    wait_until_ready,
)
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
from tests.harness.proxy import TcpProxy
{%- endif %}

# The deadlines the processes run with (environment variables of their settings).
SETTINGS: dict[str, float] = {
    "READINESS_TIMEOUT_SECONDS": 1.0,
    "SHUTDOWN_TIMEOUT_SECONDS": 10,
    "MAX_REQUEST_BODY_BYTES": 65_536,
{%- if cookiecutter.database == 'postgres' %}
    "DATABASE_TIMEOUT_SECONDS": 1.0,
    "DATABASE_POOL_TIMEOUT_SECONDS": 1.0,
    "DATABASE_CONNECT_TIMEOUT_SECONDS": 1.0,
    "DATABASE_POOL_SIZE": 5,
{%- endif %}
{%- if cookiecutter.__redis %}
    "CACHE_TIMEOUT_SECONDS": 0.25,
    "CACHE_COOLDOWN_SECONDS": 1.0,
{%- endif %}
{%- if cookiecutter.with_worker %}
    "REDIS_TIMEOUT_SECONDS": 1.0,
    "JOB_TIMEOUT_SECONDS": 5,
    "WORKER_HEALTH_CHECK_INTERVAL_SECONDS": 1,
{%- endif %}
}
# What a process may take on top of a deadline: scheduling and start-up on a busy machine.
SLACK_SECONDS = 1.5
# How long the system may take to serve again once a backend is back.
RECOVERY_SECONDS = 10.0


def deadline(name: str) -> float:
    """One of :data:`SETTINGS`, in seconds."""
    return float(SETTINGS[name])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; the seconds it took (fails the test after ``timeout``)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what} did not happen within {timeout:g}s")
        time.sleep(0.05)
    return time.monotonic() - started


def timed(request: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    """Send a request; the seconds until its answer, and the answer."""
    started = time.monotonic()
    response = request()
    return time.monotonic() - started, response


def assert_unavailable(response: httpx.Response, component: str) -> None:
    """A 503 that names the component and nothing else: no host, port, driver or SQL."""
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": f"{component} unavailable", "component": component}
    assert response.headers["retry-after"] == "5"
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}


@pytest.fixture(scope="session")
def proxies(
{%- if cookiecutter.database == 'postgres' %}
    migrated_database: str,
{%- endif %}
{%- if cookiecutter.__redis %}
    redis_url: str,
{%- endif %}
) -> Iterator[dict[str, TcpProxy]]:
    """A proxy in front of each backend, by component name."""
    upstreams: dict[str, tuple[str, int]] = {}
{%- if cookiecutter.database == 'postgres' %}
    url = make_url(migrated_database)
    upstreams["database"] = (url.host or "127.0.0.1", url.port or 5432)
{%- endif %}
{%- if cookiecutter.__redis %}
    parts = urlsplit(redis_url)
    upstreams["redis"] = (parts.hostname or "127.0.0.1", parts.port or 6379)
{%- endif %}
    started = {name: TcpProxy(*upstream).start() for name, upstream in upstreams.items()}
    yield started
    for proxy in started.values():
        proxy.close()
{%- endif %}


@dataclass
class Figures:
    """What the tier measured, printed as a table at the end of the run."""

    rows: list[tuple[str, str, int, float]] = field(default_factory=list)
    recoveries: dict[str, float] = field(default_factory=dict)

    def add(self, case: str, request: str, status: int, seconds: float) -> None:
        """One answer: its case, request, status and time to answer."""
        self.rows.append((case, request, status, seconds))

    def recovered(self, case: str, seconds: float) -> None:
        """How long after the backend came back the case served again."""
        self.recoveries[case] = seconds

    def table(self) -> list[str]:
        """The rows as aligned text."""
        lines = [f"{'case':<42} {'request':<28} {'status':>6} {'answer s':>9} {'recover s':>10}"]
        for case, request, status, seconds in self.rows:
            recovery = self.recoveries.get(case)
            again = f"{recovery:10.2f}" if recovery is not None else f"{'':>10}"
            lines.append(f"{case:<42} {request:<28} {status:>6} {seconds:9.2f} {again}")
        return lines


FIGURES = Figures()


@pytest.fixture
def figures() -> Figures:
    """The tier's table of answers and recoveries."""
    return FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table after the run."""
    if FIGURES.rows:
        terminalreporter.section("fault tier: answers and recoveries")
        for line in FIGURES.table():
            terminalreporter.write_line(line)
{%- if cookiecutter.database == 'postgres' %}


# Title -> the tag count of each stored note with that title.
StoredNotes = Callable[[str], dict[str, list[int]]]


@pytest.fixture
def stored_notes(migrated_database: str) -> StoredNotes:
    """What the database really holds (read past the proxy), for titles starting with a prefix."""

    async def query(prefix: str) -> dict[str, list[int]]:
        engine = create_async_engine(migrated_database, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT n.title, count(t.tag) FROM notes n "
                        "LEFT JOIN note_tags t ON t.note_id = n.id "
                        "WHERE starts_with(n.title, :prefix) GROUP BY n.id, n.title"
                    ),
                    {"prefix": prefix},
                )
                stored: dict[str, list[int]] = {}
                for title, tags in rows:
                    stored.setdefault(title, []).append(tags)
                return stored
        finally:
            await engine.dispose()

    return lambda prefix: asyncio.run(query(prefix))
{%- endif %}


@pytest.fixture(scope="session")
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
def fault_env(
{%- if cookiecutter.database == 'postgres' %}
    migrated_database: str,
{%- endif %}
{%- if cookiecutter.__redis %}
    redis_url: str,
{%- endif %}
    proxies: dict[str, TcpProxy],
) -> dict[str, str]:
    """The environment of the system's processes: the deadlines, the backends behind proxies."""
    env = process_env({name: f"{value:g}" for name, value in SETTINGS.items()})
{%- if cookiecutter.database == 'postgres' %}
    proxied = make_url(migrated_database).set(host="127.0.0.1", port=proxies["database"].port)
    env["DATABASE_URL"] = proxied.render_as_string(hide_password=False)
{%- endif %}
{%- if cookiecutter.__redis %}
    parts = urlsplit(redis_url)
    netloc = parts.netloc.rpartition("@")
    host = f"127.0.0.1:{proxies['redis'].port}"
    env["REDIS_URL"] = parts._replace(netloc=f"{netloc[0]}{netloc[1]}{host}").geturl()
{%- endif %}
    return env
{%- else %}
def fault_env() -> dict[str, str]:
    """The environment of the system's processes: the deadlines."""
    return process_env({name: f"{value:g}" for name, value in SETTINGS.items()})
{%- endif %}


@pytest.fixture(scope="session")
def system(fault_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The system, started once for the tier."""
    try:
        with running_system(tmp_path_factory.mktemp("fault-logs"), fault_env) as started:
            yield started
    except StartupError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(autouse=True)
def healthy_again(
    request: pytest.FixtureRequest,
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
    proxies: dict[str, TcpProxy],
{%- endif %}
) -> Iterator[None]:
    """After each test: backends restored and the shared system ready again, or the test fails."""
    yield
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
    for proxy in proxies.values():
        proxy.restore()
{%- endif %}
    if "system" not in request.fixturenames:
        return
    system: System = request.getfixturevalue("system")
{%- if cookiecutter.with_worker %}
    if not system.worker.running:  # what compose's restart policy or Kubernetes would do
        system.worker.restart()
{%- endif %}
    try:
        wait_until_ready(system.base_url, system.processes, RECOVERY_SECONDS)
    except StartupError as exc:
        pytest.fail(f"the system did not recover after the test: {exc}")


@pytest.fixture
def client(system: System) -> Iterator[httpx.Client]:
    """An HTTP client of the shared system; its own timeout is far above every deadline."""
    with httpx.Client(base_url=system.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where the processes a test starts itself write their output."""
    return tmp_path
