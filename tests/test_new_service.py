"""`make new-service NAME=...` in a baked project: a service that passes every check at once.

It touches only the files that must name it, the Make targets and test suites find it without an
edit, and bad names or a failure leave every file as it was. The project's own tool chain runs on
a new service in tests/test_generated_project.py (lint, type check, its unit and integration
tests), its image is built in tests/test_containers.py, and a later `copier update` keeps it
(tests/test_update.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import run
from engines import render_cookiecutter
from machine import project_env
from variants import DEFAULTS
from workflow_steps import detect, listed_images

NAME = "billing"
# What a new service touches besides its own directory: each names it, and no tool derives it.
TOUCHED = {
    "docker-compose.yml",
    "docker-compose.dev.yml",
    "observability/prometheus.yml",
    "pyproject.toml",
    "uv.lock",
}


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the project but its environment and caches, by path."""
    skipped = {".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "reports", "__pycache__"}
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not skipped & set(path.relative_to(project).parts)
    }


def new_service(
    project: Path, env: dict[str, str], name: str | None
) -> subprocess.CompletedProcess[str]:
    command = ["make", "new-service", *([f"NAME={name}"] if name is not None else [])]
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600
    )


def add_service(project: Path, variant: dict[str, Any], name: str = NAME) -> str:
    """Run `make new-service NAME=name` in the project; its output."""
    result = new_service(project, project_env(variant, None), name)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_new_service_touches_only_what_names_it(tmp_path: Path, template_repo: Path) -> None:
    project = render_cookiecutter(template_repo, {}, tmp_path)
    env = project_env(DEFAULTS, None)
    run(["uv", "lock", "--quiet"], project, env)
    before = snapshot(project)

    output = add_service(project, DEFAULTS)
    assert "uv.lock: re-resolved" in output

    after = snapshot(project)
    created = after.keys() - before.keys()
    assert {f"services/{NAME}/Dockerfile", f"services/{NAME}/pyproject.toml"} <= created
    assert all(path.startswith(f"services/{NAME}/") for path in created), created
    changed = {path for path in before if before[path] != after.get(path)}
    assert changed == TOUCHED
    assert f'"services/{NAME}/src"' in (project / "pyproject.toml").read_text("utf-8")
    # The project-wide targets take it in without an edit: the Makefile finds services on disk.
    # (tests/test_generated_project.py runs them on a new service, lint to integration tests.)
    dry = run(["make", "-n", "test-unit", "test-integration", "build"], project, env)
    assert f"services/{NAME}/tests/unit" in dry
    assert f"services/{NAME}/tests/integration" in dry
    assert f"-f services/{NAME}/Dockerfile" in dry
    assert f"Parts: core api {NAME} tests" in run(["make", "help"], project, env)
    # The generated CI's change detection selects it for a change under services/billing/, its
    # build and scan lists name it.
    selected = detect(project, [f"services/{NAME}/src/my_service_{NAME}/rounds.py"])
    assert selected == {"parts": [NAME], "units": [NAME], "services": [NAME]}
    assert NAME in detect(project, ["README.md"], event="push")["services"]
    for workflow in ("reusable-build.yml", "security.yml"):
        assert listed_images(project, workflow) == ["api", NAME], workflow


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "NAME is required: make new-service NAME=billing"),
        ("Billing", "NAME 'Billing' is not a service name: lower-case letters and digits"),
        ("bill-ing", "NAME 'bill-ing' is not a service name"),
        ("9lives", "NAME '9lives' is not a service name"),
        ("a" * 21, "at most 20"),
        ("core", "NAME 'core' is taken by the project itself"),
        ("api", "NAME 'api': services/api exists already"),
    ],
    ids=["missing", "upper-case", "hyphen", "digit-first", "too-long", "reserved", "existing"],
)
def test_a_bad_name_is_refused_and_changes_nothing(
    bake: Any, name: str | None, message: str
) -> None:
    project = bake(DEFAULTS)
    before = snapshot(project)
    result = new_service(project, project_env(DEFAULTS, None), name)
    assert result.returncode != 0
    assert "new-service: NAME" in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert "; nothing was changed." in result.stderr
    assert snapshot(project) == before


def test_a_failure_while_writing_takes_everything_back(bake: Any, tmp_path: Path) -> None:
    """`uv add` fails after the script wrote the service and its entries: they all go back."""
    project = bake(DEFAULTS)
    env = project_env(DEFAULTS, None)
    failing = tmp_path / "uv"
    real = shutil.which("uv", path=env["PATH"])
    failing.write_text(
        f'#!/bin/sh\n[ "$1" = add ] && {{ echo "error: no space left" >&2; exit 2; }}\n'
        f'exec "{real}" "$@"\n'
    )
    failing.chmod(0o755)
    before = snapshot(project)
    # The script as `make new-service` runs it, with the uv it is given in UV (`uv run` sets it).
    result = subprocess.run(
        [env["UV_PYTHON"], "scripts/new_service.py", NAME],
        cwd=project, env={**env, "UV": str(failing)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"uv add my-service-{NAME} failed: error: no space left" in result.stderr, result.stderr
    assert "nothing was changed." in result.stderr
    assert snapshot(project) == before
    assert not list((project / "services").glob(f"*{NAME}*"))
