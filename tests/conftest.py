"""Fixtures shared by every template test (the one place for them)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from engines import snapshot_template
from machine import build_torch_index


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as it is in the work tree, as a tagged git repository."""
    return snapshot_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def torch_index(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """file:// URL of a local index with the CPU build of torch, if the machine has one."""
    return build_torch_index(tmp_path_factory.mktemp("torch-index"))


@pytest.fixture
def uv_env() -> dict[str, str]:
    """Environment for uv inside a baked project: never download interpreters."""
    # The template's own environment must not leak into the baked project's.
    leaking = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "UV_INDEX"}
    env = {k: v for k, v in os.environ.items() if k not in leaking}
    # uv and make come from the template's environment (uv is a dev dependency).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    return env
