"""Print the wall time of each test tier of a baked project (default and largest variant).

    bash .ci/start-services            # PostgreSQL and Redis on loopback
    uv run python benchmarks/tier_times.py

A report, not a test: it bakes each variant, runs `make install`, then times
every `make test-<service>-<tier>` and `make test-e2e` target once, against a
fresh database and Redis database.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import machine
from engines import render_cookiecutter, snapshot_template
from variants import DEFAULTS, LARGEST

VARIANTS: dict[str, dict[str, Any]] = {"defaults": {}, "largest": LARGEST}


def make(target: str, project: Path, env: dict[str, str]) -> float:
    """Run one make target; return its wall time in seconds (exit on failure)."""
    try:
        return machine.timed_make([target], project, env)[0]
    except subprocess.CalledProcessError as error:
        sys.exit(f"make {target} failed:\n{error.output}")


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        template = snapshot_template(Path(scratch) / "template")
        torch_index = machine.build_torch_index(Path(scratch) / "torch-index")
        print(f"{'variant':<10}{'target':<28}{'seconds':>9}")
        for name, answers in VARIANTS.items():
            variant = {**DEFAULTS, **answers}
            with machine.bench_env(variant, torch_index) as env:
                project = render_cookiecutter(template, answers, Path(scratch) / name)
                print(f"{name:<10}{'install (uv sync)':<28}{make('install', project, env):>9.1f}")
                services = ["api", "worker"] if variant["with_worker"] else ["api"]
                targets = [f"test-{s}-{t}" for s in services for t in ("unit", "integration")]
                for target in [*targets, "test-e2e"]:
                    print(f"{name:<10}{target:<28}{make(target, project, env):>9.1f}")


if __name__ == "__main__":
    main()
