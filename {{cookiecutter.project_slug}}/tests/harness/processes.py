"""The system's processes, started as a deployment starts them: real commands, real signals.

``SYSTEM_COVERAGE_FILE`` (set by ``make test-e2e`` and ``make test-faults``) runs each process
under ``coverage run``, writing its data next to that file for the tier's coverage report.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
API_PACKAGE = "{{ cookiecutter.package_name }}_api"
{%- if cookiecutter.with_worker %}
WORKER_PACKAGE = "{{ cookiecutter.package_name }}_worker"
{%- endif %}
STOP_TIMEOUT_SECONDS = 30


class StartupError(RuntimeError):
    """The system did not start; the message holds the processes' output."""


@dataclass
class Process:
    """A process of the system under test, its output going to a log file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    # Where its Prometheus metrics are served (METRICS_PORT), if anywhere.
    metrics_port: int | None = None
    popen: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.popen = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 -- our own interpreter and modules
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.popen.poll() is None

    @property
    def metrics_url(self) -> str:
        """The process's ``/metrics`` address."""
        if self.metrics_port is None:
            msg = f"{self.name} serves no metrics"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def lines(self) -> list[str]:
        """Everything the process wrote so far, line by line."""
        return self.log.read_text("utf-8", errors="replace").splitlines()

    def output(self, lines: int = 40) -> str:
        """The last lines the process wrote, indented for a report."""
        text = self.lines()[-lines:]
        return "\n".join(f"    {line}" for line in text) or "    (no output)"

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` (SIGTERM, SIGKILL, SIGSTOP, ...) to the process."""
        self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit; its exit status (raises TimeoutExpired after timeout)."""
        return self.popen.wait(timeout)

    def restart(self) -> None:
        """Start the same command again (as a supervisor does), once the process has exited."""
        if self.running:
            msg = f"{self.name} is still running"
            raise RuntimeError(msg)
        self.popen = self._spawn()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM (a clean shutdown that lets coverage save its data), then SIGKILL."""
        if self.running:
            self.popen.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()


def python_command(module: str, *args: str, source: str) -> list[str]:
    """``python -m module args``, under ``coverage run`` when SYSTEM_COVERAGE_FILE is set."""
    command = [sys.executable]
    coverage_file = os.environ.get("SYSTEM_COVERAGE_FILE")
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


def process_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment for a process of the system, with ``overrides`` applied."""
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        # The tests read the processes' log lines as JSON.
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        **(overrides or {}),
    }


def start(name: str, command: list[str], log_dir: Path, env: Mapping[str, str]) -> Process:
    """Start one process of the system in the repository root, its metrics on a free port."""
    metrics_port = free_port()
    env = {**env, "METRICS_HOST": "127.0.0.1", "METRICS_PORT": str(metrics_port)}
    return Process(name, command, env, log_dir / f"{name}.log", metrics_port)
{%- if cookiecutter.database == 'postgres' %}


def migrate(env: Mapping[str, str]) -> None:
    """Bring the database to the newest migration, as the deployment's migrate step does."""
    result = subprocess.run(  # noqa: S603 -- our own interpreter and module
        python_command(f"{API_PACKAGE}.migrate", source=API_PACKAGE),
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        msg = f"The migrations failed:\n{result.stderr.strip()}"
        raise StartupError(msg)
{%- endif %}


def start_api(log_dir: Path, env: Mapping[str, str], port: int, name: str = "api") -> Process:
    """The api as the image runs it (``python -m {{ cookiecutter.package_name }}_api``), on 127.0.0.1:port."""
    env = {**env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port)}
    return start(name, python_command(API_PACKAGE, source=API_PACKAGE), log_dir, env)
{%- if cookiecutter.with_worker %}


def start_worker(
    log_dir: Path, env: Mapping[str, str], module: str = WORKER_PACKAGE, name: str = "worker"
) -> Process:
    """The worker as the image runs it (``python -m {{ cookiecutter.package_name }}_worker``), or ``module``."""
    return start(name, python_command(module, source=WORKER_PACKAGE), log_dir, env)
{%- endif %}


def wait_until_ready(base_url: str, processes: list[Process], timeout: float) -> None:
    """Poll ``/health/ready`` until it answers 200; raise StartupError with the output if not."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            for process in processes:
                if not process.running:
                    msg = (
                        f"The {process.name} process exited with status "
                        f"{process.popen.returncode} during startup. Its output:\n"
                        + process.output()
                    )
                    raise StartupError(msg)
            try:
                response = client.get("/health/ready")
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == httpx.codes.OK:
                    return
                last = f"{response.status_code} {response.text}"
            time.sleep(0.1)
    outputs = "\n".join(f"{process.name} output:\n{process.output()}" for process in processes)
    msg = f"The api at {base_url} was not ready within {timeout:g}s (last: {last}).\n{outputs}"
    raise StartupError(msg)


def startup_timeout() -> float:
    """How long the api may take to become ready (``SYSTEM_STARTUP_TIMEOUT_SECONDS``)."""
    return float(os.environ.get("SYSTEM_STARTUP_TIMEOUT_SECONDS", "{{ '180' if cookiecutter.use_embedding_model else '90' }}"))


@dataclass
class System:
    """The running system: the api's URL and every process."""

    base_url: str
    api: Process
{%- if cookiecutter.with_worker %}
    worker: Process
{%- endif %}

    @property
    def processes(self) -> list[Process]:
        """Every process of the system."""
        return [{% if cookiecutter.with_worker %}self.worker, {% endif %}self.api]


@contextmanager
def running_system(log_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[System]:
    """Migrate, start every process, wait until ready; stop them all afterwards, come what may."""
    env = process_env(env)
{%- if cookiecutter.database == 'postgres' %}
    migrate(env)
{%- endif %}
    port = free_port()
    with ExitStack() as stack:
{%- if cookiecutter.with_worker %}
        worker = start_worker(log_dir, env)
        stack.callback(worker.stop)
{%- endif %}
        api = start_api(log_dir, env, port)
        stack.callback(api.stop)
        system = System(f"http://127.0.0.1:{port}", api{% if cookiecutter.with_worker %}, worker{% endif %})
        wait_until_ready(system.base_url, system.processes, startup_timeout())
        yield system
