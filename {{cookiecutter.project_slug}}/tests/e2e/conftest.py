"""End-to-end fixtures: the whole system, running, driven over real HTTP.

With ``E2E_BASE_URL`` set, the tests drive the system at that URL (a compose stack, a staging
deployment) and start nothing. Without it, they start the system here, as real processes:
{% if cookiecutter.database == 'postgres' %}
* the migrations: ``python -m {{ cookiecutter.package_name }}_api.migrate``;
{%- endif %}
* the api: uvicorn on 127.0.0.1 and a free port;
{%- if cookiecutter.with_worker %}
* the worker: ``python -m {{ cookiecutter.package_name }}_worker``;
{%- endif %}
{% if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
on the servers of the shared fixtures (the root ``conftest.py``, which checks them first),
{%- endif %}
then wait until ``/health/ready`` answers 200, and stop them after the last test with SIGTERM,
which lets them shut down cleanly.

Other variables:

* ``E2E_STARTUP_TIMEOUT_SECONDS`` (default {{ '120' if cookiecutter.use_embedding_model else '30' }}): how long the api may take to become ready;
  after that the run stops and shows the processes' output.
* ``E2E_COVERAGE_FILE`` (set by ``make test-e2e``): run the processes under ``coverage run``,
  writing their data next to this file, for ``reports/coverage-e2e.xml``.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
API_PACKAGE = "{{ cookiecutter.package_name }}_api"
{%- if cookiecutter.with_worker %}
WORKER_PACKAGE = "{{ cookiecutter.package_name }}_worker"
{%- endif %}
# Exit status of a run stopped because the system could not be started (pytest's "usage error").
NOT_STARTED = pytest.ExitCode.USAGE_ERROR
STOP_TIMEOUT_SECONDS = 15


def stop_run(message: str) -> NoReturn:
    """End the session now with ``message``: one clear report instead of an error per test."""
    pytest.exit(message, returncode=NOT_STARTED)


@dataclass
class Process:
    """A process of the system under test, its output going to a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self, lines: int = 40) -> str:
        """The last lines the process wrote, indented for a report."""
        text = self.log.read_text("utf-8", errors="replace").splitlines()[-lines:]
        return "\n".join(f"    {line}" for line in text) or "    (no output)"

    def stop(self) -> None:
        """SIGTERM (a clean shutdown that lets coverage save its data), then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def python_command(module: str, *args: str, source: str) -> list[str]:
    """``python -m module args``, under ``coverage run`` when E2E_COVERAGE_FILE is set."""
    command = [sys.executable]
    coverage_file = os.environ.get("E2E_COVERAGE_FILE")
    if coverage_file:
        command += [
            "-m",
            "coverage",
            "run",
            "--parallel-mode",
            f"--data-file={coverage_file}",
            f"--source={source}",
        ]
    return [*command, "-m", module, *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def start(name: str, command: list[str], log_dir: Path) -> Process:
    """Start one process of the system, in the repository root, with this environment."""
    log = log_dir / f"{name}.log"
    env = {**os.environ, "ENVIRONMENT": "test", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603 -- our own interpreter and modules
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return Process(name, popen, log)
{%- if cookiecutter.database == 'postgres' %}


def migrate() -> None:
    """Bring the database to the newest migration, as the deployment's migrate step does."""
    result = subprocess.run(  # noqa: S603 -- our own interpreter and module
        python_command(f"{API_PACKAGE}.migrate", source=API_PACKAGE),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        stop_run(f"The migrations failed:\n{result.stderr.strip()}")
{%- endif %}


def wait_until_ready(base_url: str, processes: list[Process], timeout: float) -> None:
    """Poll ``/health/ready`` until it answers 200; if it never does, stop with the output."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            for process in processes:
                if process.popen.poll() is not None:
                    stop_run(
                        f"The {process.name} process exited with status "
                        f"{process.popen.returncode} during startup. Its output:\n"
                        + process.output()
                    )
            try:
                response = client.get("/health/ready")
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == httpx.codes.OK:
                    return
                last = f"{response.status_code} {response.text}"
            time.sleep(0.25)
    outputs = "\n".join(f"{process.name} output:\n{process.output()}" for process in processes)
    stop_run(f"The api at {base_url} was not ready within {timeout:g}s (last: {last}).\n{outputs}")


@contextmanager
def running_system(log_dir: Path) -> Iterator[str]:
    """Start the system; yield the api's base URL; stop every process, whatever happened."""
    timeout = float(os.environ.get("E2E_STARTUP_TIMEOUT_SECONDS", "{{ '120' if cookiecutter.use_embedding_model else '30' }}"))
{%- if cookiecutter.database == 'postgres' %}
    migrate()
{%- endif %}
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        processes: list[Process] = []
{%- if cookiecutter.with_worker %}
        worker = start("worker", python_command(WORKER_PACKAGE, source=WORKER_PACKAGE), log_dir)
        stack.callback(worker.stop)
        processes.append(worker)
{%- endif %}
        api = start(
            "api",
            python_command(
                "uvicorn",
                f"{API_PACKAGE}.main:app",
                "--host=127.0.0.1",
                f"--port={port}",
                source=API_PACKAGE,
            ),
            log_dir,
        )
        stack.callback(api.stop)
        processes.append(api)
        wait_until_ready(base_url, processes, timeout)
        yield base_url


@pytest.fixture(scope="session")
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Where the system under test answers: ``E2E_BASE_URL``, or the one started here."""
    given = os.environ.get("E2E_BASE_URL", "").rstrip("/")
    if given:
        try:
            httpx.get(f"{given}/health/live", timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            stop_run(f"E2E_BASE_URL={given} does not answer /health/live: {exc}")
        yield given
        return
{%- if cookiecutter.database == 'postgres' %}
    request.getfixturevalue("database_url")  # stops the run at once when PostgreSQL is down
{%- endif %}
{%- if cookiecutter.__redis %}
    request.getfixturevalue("redis_url")  # stops the run at once when Redis is down
{%- endif %}
    with running_system(tmp_path_factory.mktemp("e2e-logs")) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the system under test."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client
