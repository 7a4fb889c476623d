"""Workflows and composite actions as data; their `run:` steps run as GitHub runs them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = ".github/workflows"
ACTIONS = ".github/actions"


def load(project: Path, name: str) -> dict[str, Any]:
    """A workflow as data (PyYAML reads the key `on` as True: give it back its name)."""
    data: dict[Any, Any] = yaml.safe_load((project / WORKFLOWS / name).read_text("utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files(project: Path) -> list[Path]:
    return sorted((project / WORKFLOWS).glob("*.yml"))


def action_files(project: Path) -> list[Path]:
    """The local composite actions' metadata files."""
    return sorted((project / ACTIONS).glob("*/action.yml"))


def load_action(project: Path, uses: str) -> dict[str, Any]:
    """A local composite action (`uses: ./.github/actions/NAME`) as data."""
    data: dict[str, Any] = yaml.safe_load((project / uses / "action.yml").read_text("utf-8"))
    return data


def steps_of(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def step_named(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The step with this name (exactly one)."""
    (step,) = (step for step in steps if step.get("name") == name)
    return step


def run_step(
    script: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a workflow's `run:` script the way GitHub runs it (bash -e -o pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def outputs(path: Path) -> dict[str, str]:
    """The key=value lines a step wrote to $GITHUB_OUTPUT."""
    return dict(line.split("=", 1) for line in path.read_text("utf-8").splitlines() if line)
