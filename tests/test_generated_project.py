"""Static and run tiers: baked projects pass their own checks and tests.

Every all-pairs variant gets ruff (lint and format) with its generated
configuration, and mypy in its own uv environment where this machine can build
one (an installed interpreter; the embedding model's CPU torch wheel exists
for 3.11 only). The default and the largest variant run their own Makefile:
install, lint, typecheck and unit tests, as a user would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from engines import render_cookiecutter
from machine import find_python
from variants import DEFAULTS, LARGEST, pairwise, variant_id

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; on failure show its whole output in the assertion."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=1200
    )
    output = f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    return output


@pytest.mark.parametrize("answers", pairwise(), ids=variant_id)
def test_variant_passes_ruff(tmp_path: Path, template_repo: Path, answers: dict[str, Any]) -> None:
    project = render_cookiecutter(template_repo, answers, tmp_path)
    run([RUFF, "check", "--no-cache", "."], cwd=project)
    run([RUFF, "format", "--check", "--no-cache", "."], cwd=project)


def runnable_here(variant: dict[str, Any]) -> bool:
    """Whether uv can build this variant's environment on this machine."""
    version = variant["python_version"]
    return find_python(version) is not None and (
        not variant["use_embedding_model"] or version == LARGEST["python_version"]
    )


def prepare_uv(variant: dict[str, Any], env: dict[str, str], torch_index: str | None) -> None:
    """Point uv at a local interpreter and, for the model, at the local torch wheel."""
    python = find_python(variant["python_version"])
    assert python, f"no CPython {variant['python_version']} here"
    env["UV_PYTHON"] = python
    if variant["use_embedding_model"]:
        assert torch_index, "the embedding variant needs a local CPU torch wheel"
        env["UV_INDEX"] = f"pytorch-cpu={torch_index}"


MYPY_VARIANTS = [v for v in pairwise() if runnable_here(v)]


@pytest.mark.slow
@pytest.mark.parametrize("answers", MYPY_VARIANTS, ids=variant_id)
def test_variant_passes_mypy(
    tmp_path: Path,
    template_repo: Path,
    uv_env: dict[str, str],
    torch_index: str | None,
    answers: dict[str, Any],
) -> None:
    prepare_uv(answers, uv_env, torch_index)
    project = render_cookiecutter(template_repo, answers, tmp_path)
    run(["uv", "sync", "--quiet"], cwd=project, env=uv_env)
    run(["uv", "run", "--frozen", "mypy"], cwd=project, env=uv_env)


def junit_counts(report: Path) -> dict[str, int]:
    """tests / failures / errors / skipped summed over a JUnit XML report."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return {
        key: sum(int(suite.get(key, 0)) for suite in suites)
        for key in ("tests", "failures", "errors", "skipped")
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "answers", [pytest.param({}, id="defaults"), pytest.param(LARGEST, id="largest")]
)
def test_variant_passes_its_own_checks(
    tmp_path: Path,
    template_repo: Path,
    uv_env: dict[str, str],
    torch_index: str | None,
    answers: dict[str, Any],
) -> None:
    variant = {**DEFAULTS, **answers}
    prepare_uv(variant, uv_env, torch_index)
    project = render_cookiecutter(template_repo, answers, tmp_path)

    run(["make", "install"], cwd=project, env=uv_env)
    run(["make", "lint"], cwd=project, env=uv_env)
    run(["make", "typecheck"], cwd=project, env=uv_env)
    run(["make", "test-unit"], cwd=project, env=uv_env)

    services = ["api", "worker"] if variant["with_worker"] else ["api"]
    for service in services:
        counts = junit_counts(project / "reports" / f"junit-{service}-unit.xml")
        assert counts["tests"] > 0, service
        assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, counts
        assert (project / "reports" / f"coverage-{service}-unit.xml").is_file()
