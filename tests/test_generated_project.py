"""Static and run tiers: baked projects pass their own checks and tests.

Every pairwise variant gets ruff (lint and format) with the generated
configuration; the default and the largest variant are synced with uv and run
their own ruff, mypy and unit tests through their Makefile, as a user would.
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
    python = find_python(variant["python_version"])
    if python is None:
        pytest.skip(f"no CPython {variant['python_version']} on this machine for uv to use")
    uv_env["UV_PYTHON"] = python
    if variant["use_embedding_model"]:
        assert torch_index, "the embedding variant needs the local CPU torch wheel"
        uv_env["UV_INDEX"] = f"pytorch-cpu={torch_index}"
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
