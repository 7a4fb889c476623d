"""Fixtures shared by every template test (the one place for them)."""

from __future__ import annotations

import os

# Hundreds of bakes here never install anything: the post-generation step skips `uv lock` for
# them (tests/test_update.py runs the real lock). Set before copier is imported, since copier
# runs its tasks with the environment as it was then (plumbum's copy).
os.environ.setdefault("TEMPLATE_SKIP_LOCK", "1")

import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import machine
import pytest
from engines import render_cookiecutter, snapshot_template

# Every tool the tests start finds this machine's real interpreters before pyenv's shims.
os.environ["PATH"] = machine.put_interpreters_first(Path(tempfile.mkdtemp(prefix="pythons-")))


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is in the work tree, as a tagged git repository."""
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def torch_index(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """file:// URL of a local index with the CPU build of torch, if the machine has one."""
    return machine.build_torch_index(tmp_path_factory.mktemp("torch-index"))


@pytest.fixture(scope="module")
def bake(tmp_path_factory: pytest.TempPathFactory, template_repo: Path) -> Callable[..., Path]:
    """Bake a variant once per module (and xdist worker); later calls reuse the project."""
    baked: dict[str, Path] = {}

    def get(answers: dict[str, Any]) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in baked:
            output = tmp_path_factory.mktemp("bake")
            baked[key] = render_cookiecutter(template_repo, answers, output)
        return baked[key]

    return get


START_SERVICES = "start it with `bash .ci/start-services`"


def run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; on failure show its whole output in the assertion."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=1200
    )
    output = f"$ {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    return output


def require(available: bool, what: str, how: str = "") -> None:
    """Fail in CI (which must provide it), skip with the reason elsewhere."""
    if available:
        return
    message = f"{what} is not available" + (f"; {how}" if how else "")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one baked project; dropped afterwards."""
    require(machine.reachable(machine.POSTGRES_ADMIN_URL), "PostgreSQL", START_SERVICES)
    with machine.fresh_database("baked") as url:
        yield url


@pytest.fixture
def redis_url(worker_id: str) -> str:
    """A Redis database of its own for this xdist worker (numbers 1 to 15), emptied first."""
    require(machine.reachable(machine.REDIS_SERVER_URL), "Redis", START_SERVICES)
    number = 1 + (int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0) % 15
    url = f"{machine.REDIS_SERVER_URL}/{number}"
    subprocess.run(["redis-cli", "-u", url, "flushdb"], check=True, capture_output=True)
    return url
