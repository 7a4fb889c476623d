"""Fixtures shared by every template test (the one place for them)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import machine
import pytest
from engines import snapshot_template


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is in the work tree, as a tagged git repository."""
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def torch_index(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """file:// URL of a local index with the CPU build of torch, if the machine has one."""
    return machine.build_torch_index(tmp_path_factory.mktemp("torch-index"))


START_SERVICES = "start it with `bash .ci/start-services`"


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
    name = f"baked_{uuid.uuid4().hex[:12]}"
    machine.psql(f'CREATE DATABASE "{name}"')
    yield machine.database_url(name)
    machine.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url(worker_id: str) -> str:
    """A Redis database of its own for this xdist worker (numbers 1 to 15), emptied first."""
    require(machine.reachable(machine.REDIS_SERVER_URL), "Redis", START_SERVICES)
    number = 1 + (int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0) % 15
    url = f"{machine.REDIS_SERVER_URL}/{number}"
    subprocess.run(["redis-cli", "-u", url, "flushdb"], check=True, capture_output=True)
    return url
