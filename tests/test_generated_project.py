"""Static and run tiers: baked projects pass their own checks and tests.

Every all-pairs variant gets ruff (lint and format) with its generated
configuration, and mypy in its own uv environment where this machine can build
one (an installed interpreter; the embedding model's CPU torch wheel exists
for 3.11 only). The default and the largest variant run their own Makefile:
install, lint, typecheck and every test tier (unit; integration against real
PostgreSQL and Redis; e2e against the service started as a real process), as a
user would, and their JUnit reports must show tests that ran and none skipped.
"""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import run
from engines import render_cookiecutter
from machine import find_python, local_model_dir, project_env
from test_new_service import add_service
from variants import DEFAULTS, LARGEST, pairwise, variant_id

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"


# A package name that sorts after `tests`, whose imports a file may hold beside the package's.
LATE_NAME = {**LARGEST, "project_name": "Wallet"}


@pytest.mark.parametrize("answers", [*pairwise(), LATE_NAME], ids=variant_id)
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


MYPY_VARIANTS = [v for v in pairwise() if runnable_here(v)]


@pytest.mark.slow
@pytest.mark.parametrize("answers", MYPY_VARIANTS, ids=variant_id)
def test_variant_passes_mypy(
    tmp_path: Path,
    template_repo: Path,
    torch_index: str | None,
    answers: dict[str, Any],
) -> None:
    env = project_env(answers, torch_index)
    project = render_cookiecutter(template_repo, answers, tmp_path)
    run(["uv", "sync", "--quiet"], cwd=project, env=env)
    run(["uv", "run", "--frozen", "mypy"], cwd=project, env=env)


def junit_counts(report: Path) -> dict[str, int]:
    """tests / failures / errors / skipped summed over a JUnit XML report."""
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    return {
        key: sum(int(suite.get(key, 0)) for suite in suites)
        for key in ("tests", "failures", "errors", "skipped")
    }


def expected_reports(variant: dict[str, Any], added: tuple[str, ...] = ()) -> list[str]:
    """The JUnit/coverage report names `make test-all` writes for a variant."""
    services = ["api", "worker"] if variant["with_worker"] else ["api"]
    services += added
    tiers = [f"{svc}-{tier}" for svc in services for tier in ("unit", "integration")]
    return [*tiers, "e2e", "faults"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answers", "added"),
    [
        # One run covers `make new-service` too: the new service in every target of the chain.
        pytest.param({}, ("billing",), id="defaults+new-service"),
        pytest.param(LARGEST, (), id="largest"),
    ],
)
def test_variant_passes_its_own_checks(
    tmp_path: Path,
    template_repo: Path,
    torch_index: str | None,
    database_url: str,
    redis_url: str,
    answers: dict[str, Any],
    added: tuple[str, ...],
) -> None:
    """Bake, then run the project's own Makefile: every tier against real servers."""
    variant = {**DEFAULTS, **answers}
    env = project_env(variant, torch_index) | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMBEDDING_MODEL_PATH": str(local_model_dir()),
        "HF_HUB_OFFLINE": "1",
    }
    project = render_cookiecutter(template_repo, answers, tmp_path)
    for name in added:
        add_service(project, variant, name)

    for target in ("install", "lint", "typecheck", "test-all"):
        run(["make", target], cwd=project, env=env)

    for name in expected_reports(variant, added):
        counts = junit_counts(project / "reports" / f"junit-{name}.xml")
        assert counts["tests"] > 0, name
        assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, (name, counts)
        assert (project / "reports" / f"coverage-{name}.xml").is_file(), name

    # The benchmark runs (a short one) and prints a row per endpoint and concurrency.
    output = run(["make", "bench", f"BENCH_ARGS={BENCH_ARGS}"], cwd=project, env=env)
    rows = bench_rows(output)
    assert {"live", "ready", "read note", "list notes", "create note"} <= {r[0] for r in rows}
    assert {int(row[1]) for row in rows} == {1, 4}
    assert all(int(row[2]) > 0 for row in rows), rows  # requests answered


BENCH_ARGS = "--requests 40 --seconds 5 --concurrency 1 4"


def bench_rows(output: str) -> list[list[str]]:
    """`make bench`'s table: endpoint, concurrency, requests, req/s, p50, p95, p99, errors."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("endpoint")) + 2
    rows = []
    for line in lines[start:]:
        cells = line.rsplit(maxsplit=7)
        if len(cells) != 8 or not cells[1].isdigit():
            break
        rows.append(cells)
    return rows
