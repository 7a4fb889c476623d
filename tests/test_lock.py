"""First push green: uv.lock is checked where it is used, and one uv version rules CI and images.

* reusable-make.yml's lock check (every CI job runs it before `make install`), run as the
  workflow runs it: a missing and a stale uv.lock each stop it with one line that names the fix;
  a current one passes.
* The uv version: the local setup-uv action reads it from services/api/Dockerfile (its script
  run for real); every Dockerfile's uv image and the uv-lock pre-commit hook name the same one;
  pyproject.toml's floor (`required-version`) is at most that, and a uv of exactly the floor
  (from PyPI) reads the lock the pinned uv wrote.
* The uv-lock pre-commit hook, run by pre-commit from a stand-in of astral-sh/uv-pre-commit at
  the pinned rev (its hook definition, its `uv==<rev>` from PyPI: GitHub is out of reach here):
  it writes a missing uv.lock, rewrites a stale one, and fails the commit both times.

The tests that lock a baked project (with an interpreter of its Python) are marked slow, as the
run tier's are.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run
from engines import git, render_cookiecutter, start_repository
from machine import project_env
from variants import DEFAULTS, LARGEST
from workflow_steps import load, load_action, outputs, run_step, step_named

BIN = Path(sys.executable).parent
LOCK_CHECK = "Check that uv.lock matches the pyproject.toml files"
MISSING = "::error file=uv.lock::uv.lock is missing: run 'make lock' and commit uv.lock."
STALE = (
    "::error file=uv.lock::uv.lock is out of date with the pyproject.toml files: "
    "run 'make lock' and commit uv.lock."
)
UV_IMAGE = re.compile(r"^FROM ghcr\.io/astral-sh/uv:(\S+) AS uv-base$", re.M)


def add_dependency(project: Path, service: str, requirement: str) -> None:
    """A new dependency in a service's pyproject.toml, written by hand (no `uv add`)."""
    pyproject = project / "services" / service / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    line = '    "fastapi>=0.165",\n'
    assert line in text
    pyproject.write_text(text.replace(line, f'{line}    "{requirement}",\n'), "utf-8")


@pytest.mark.slow  # locks the baked project with its own uv tool chain
def test_ci_stops_on_a_missing_or_stale_lock_with_one_line(
    tmp_path: Path, template_repo: Path
) -> None:
    project = render_cookiecutter(template_repo, {}, tmp_path / "out")
    steps = load(project, "reusable-make.yml")["jobs"]["make"]["steps"]
    names = [step.get("name") for step in steps]
    assert names.index(LOCK_CHECK) == names.index("Install the project") - 1
    check = step_named(steps, LOCK_CHECK)["run"]
    env = {**project_env(DEFAULTS, None), "RUNNER_TEMP": str(tmp_path)}

    missing = run_step(check, env, project, timeout=300)
    assert missing.returncode == 1
    assert missing.stdout.strip() == MISSING

    run(["uv", "lock", "--quiet"], project, env)
    current = run_step(check, env, project, timeout=300)
    assert current.returncode == 0, current.stdout + current.stderr

    add_dependency(project, "api", "tomli>=2")
    stale = run_step(check, env, project, timeout=300)
    assert stale.returncode == 1
    # uv's own words sit in a collapsed group; the last line, an annotation, names the fix.
    lines = stale.stdout.strip().splitlines()
    assert lines[0] == "::group::uv lock --check"
    assert "needs to be updated" in stale.stdout
    assert lines[-2:] == ["::endgroup::", STALE]


def read_uv_version(project: Path, tmp_path: Path) -> tuple[int, str, str]:
    """The setup-uv action's version step, run: exit status, its output `version`, its log."""
    steps = load_action(project, "./.github/actions/setup-uv")["runs"]["steps"]
    script = step_named(steps, "Read the uv version of the images")["run"]
    github_output = tmp_path / "github-output"
    github_output.write_text("")
    result = run_step(script, {"GITHUB_OUTPUT": str(github_output)}, project)
    return result.returncode, outputs(github_output).get("version", ""), result.stdout


def test_ci_and_the_images_use_one_uv_version(tmp_path: Path, template_repo: Path) -> None:
    project = render_cookiecutter(template_repo, LARGEST, tmp_path / "out")
    dockerfiles = [*project.glob("services/*/Dockerfile"), project / "Dockerfile.model"]
    assert len(dockerfiles) == 3
    pinned = {UV_IMAGE.findall(f.read_text("utf-8"))[0] for f in dockerfiles}
    assert len(pinned) == 1, pinned
    (version,) = pinned
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    status, read, log = read_uv_version(project, tmp_path)
    assert (status, read) == (0, version), log
    # Every uv of CI comes from that action (test_workflows checks no workflow names setup-uv).
    for name in ("reusable-make.yml", "security.yml"):
        text = (project / ".github/workflows" / name).read_text("utf-8")
        assert "uses: ./.github/actions/setup-uv" in text, name
    # The hook that writes uv.lock on commit runs the same uv.
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text("utf-8"))
    (hook_repo,) = (r for r in config["repos"] if r["repo"].endswith("/uv-pre-commit"))
    assert hook_repo["rev"] == version
    # pyproject.toml's floor admits that uv (and older ones Dependabot bundles).
    floor = pyproject_floor(project)
    assert version_tuple(floor) <= version_tuple(version)

    # A Dockerfile without the line stops the step, naming the file.
    api = project / "services/api/Dockerfile"
    api.write_text(UV_IMAGE.sub("FROM ghcr.io/astral-sh/uv:latest AS uv-base", api.read_text()))
    status, read, log = read_uv_version(project, tmp_path)
    assert (status, read) == (1, "")
    assert log.startswith("::error file=services/api/Dockerfile::"), log


def pyproject_floor(project: Path) -> str:
    required = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))["tool"]["uv"][
        "required-version"
    ]
    match = re.fullmatch(r">=(\d+\.\d+\.\d+)", required)
    assert match, required
    return match[1]


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.mark.slow  # locks the baked project with its own uv tool chain
def test_a_uv_at_the_floor_reads_the_lock(tmp_path: Path, template_repo: Path) -> None:
    """The oldest uv pyproject.toml admits (from PyPI) accepts what the pinned uv locked."""
    project = render_cookiecutter(template_repo, {}, tmp_path / "out")
    env = project_env(DEFAULTS, None)
    run(["uv", "lock", "--quiet"], project, env)
    floor = pyproject_floor(project)
    output = run(
        [BIN / "uvx", "--quiet", f"uv@{floor}", "lock", "--check", "--offline"], project, env
    )
    assert "warning" not in output.lower(), output


def standin_uv_pre_commit(path: Path, rev: str) -> Path:
    """A git repository shaped like astral-sh/uv-pre-commit at `rev`: its uv-lock hook as its
    .pre-commit-hooks.yaml defines it, and a package that depends on exactly uv==rev."""
    path.mkdir()
    hooks: list[dict[str, Any]] = [
        {
            "id": "uv-lock",
            "name": "uv-lock",
            "description": "Automatically run 'uv lock' on your project dependencies",
            "entry": "uv lock",
            "language": "python",
            "files": r"^(uv\.lock|pyproject\.toml|uv\.toml)$",
            "args": [],
            "pass_filenames": False,
            "additional_dependencies": [],
            "minimum_pre_commit_version": "2.9.2",
        }
    ]
    (path / ".pre-commit-hooks.yaml").write_text(yaml.safe_dump(hooks, sort_keys=False))
    (path / "pyproject.toml").write_text(
        '[project]\nname = "uv-pre-commit"\nversion = "0.0.0"\n'
        f'dependencies = ["uv=={rev}"]\n\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        "\n[tool.setuptools]\npy-modules = []\n"
    )
    start_repository(path, f"Mirror: {rev}")
    git("tag", rev, cwd=path)
    return path


def pre_commit(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "pre-commit", "run", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


@pytest.mark.slow
def test_the_pre_commit_hook_keeps_the_lock_present_and_current(
    tmp_path: Path, template_repo: Path
) -> None:
    project = render_cookiecutter(template_repo, {}, tmp_path / "out")
    config_path = project / ".pre-commit-config.yaml"
    config = yaml.safe_load(config_path.read_text("utf-8"))
    (hook_repo,) = (
        r for r in config["repos"] if r["repo"] == "https://github.com/astral-sh/uv-pre-commit"
    )
    standin = standin_uv_pre_commit(tmp_path / "uv-pre-commit", hook_repo["rev"])
    # Only the lock's hooks, uv-lock from the stand-in, with the project's own settings.
    (local,) = (r for r in config["repos"] if r["repo"] == "local")
    in_git = [hook for hook in local["hooks"] if hook["id"] == "uv-lock-in-git"]
    config["repos"] = [{**hook_repo, "repo": str(standin)}, {"repo": "local", "hooks": in_git}]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    start_repository(project)
    env = {
        **project_env(DEFAULTS, None),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": os.environ["PATH"],  # the hook's uv, from its own environment, comes first
    }
    assert not (project / "uv.lock").exists()

    missing = pre_commit(project, env)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    # uv-lock writes it; git does not know it yet, so the commit stops with the fix.
    assert "uv.lock is not in git - git add uv.lock (make lock writes it)" in missing.stdout
    assert (project / "uv.lock").is_file()
    assert "uv.lock" in git("status", "--porcelain", cwd=project)
    git("add", "uv.lock", cwd=project)
    current = pre_commit(project, env)
    assert current.returncode == 0, current.stdout + current.stderr

    # A dependency added to a workspace member by hand: the lock follows, the commit stops.
    add_dependency(project, "api", "tomli>=2")
    git("add", "-A", cwd=project)
    stale = pre_commit(project, env)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "files were modified by this hook" in stale.stdout
    assert 'name = "tomli"' in (project / "uv.lock").read_text("utf-8")
    git("add", "uv.lock", cwd=project)
    assert pre_commit(project, env).returncode == 0
