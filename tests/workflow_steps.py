"""Workflows and composite actions as data; their `run:` steps run as GitHub runs them."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from engines import git

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


def detect(project: Path, changed: list[str], event: str = "pull_request") -> dict[str, list[str]]:
    """What ci.yml checks when a pull request changes these files (paths in the project), or
    for another event (push, merge_group): the change detection's step, run as GitHub runs it.

    GitHub checks a pull request out as a merge commit of it into the base branch. So here, in
    a git directory of its own (the project is not touched), the project as it is becomes the
    base commit, a commit on top of it changes each file (a line appended; a missing file
    created), and a merge commit joins the two, checked out as HEAD.
    """
    steps = load(project, "ci.yml")["jobs"]["changes"]["steps"]
    step = step_named(steps, "Choose the parts to check")
    with tempfile.TemporaryDirectory(prefix="ci-changes-") as scratch:
        temp = Path(scratch)
        env = {"EVENT": event, "GITHUB_OUTPUT": str(temp / "output")}
        if event == "pull_request":
            env |= {"GIT_DIR": str(temp / "git"), "GIT_WORK_TREE": str(project)}
            repo = ["--git-dir", env["GIT_DIR"], "--work-tree", str(project)]
            git(*repo, "init", "-q", "-b", "main", cwd=project)
            git(*repo, "add", "-A", cwd=project)
            git(*repo, "commit", "-q", "-m", "base", cwd=project)
            for path in changed:
                old = project / path
                blob = temp / "blob"
                blob.write_bytes((old.read_bytes() if old.is_file() else b"") + b"changed\n")
                sha = git(*repo, "hash-object", "-w", str(blob), cwd=project).strip()
                git(
                    *repo,
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"100644,{sha},{path}",
                    cwd=project,
                )
            tree = git(*repo, "write-tree", cwd=project).strip()
            change = git(*repo, "commit-tree", tree, "-p", "HEAD", "-m", "change", cwd=project)
            merge = git(
                *repo,
                "commit-tree",
                tree,
                "-p",
                "HEAD",
                "-p",
                change.strip(),
                "-m",
                "merge",
                cwd=project,
            )
            git(*repo, "update-ref", "HEAD", merge.strip(), cwd=project)
        result = run_step(step["run"], env, project)
        assert result.returncode == 0, result.stderr
        return {key: json.loads(value) for key, value in outputs(temp / "output").items()}


def listed_images(project: Path, workflow: str) -> list[str]:
    """The services a workflow's `services` job lists for its image matrix (its step, run)."""
    step = step_named(
        load(project, workflow)["jobs"]["services"]["steps"], "List the services' images"
    )
    with tempfile.TemporaryDirectory(prefix="images-") as scratch:
        output = Path(scratch) / "output"
        result = run_step(step["run"], {"GITHUB_OUTPUT": str(output)}, project)
        assert result.returncode == 0, result.stderr
        images: list[str] = json.loads(outputs(output)["services"])
    return images
