"""Render the template with each engine, the way a user would."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import yaml
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parent.parent
ANSWERS_FILE = ".copier-answers.yml"
TEMPLATE_TAG = "v0.1.0"


def load_hook(name: str) -> ModuleType:
    """Import a hook module (valid Python even unrendered) for direct use."""
    path = ROOT / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"template_hook_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Every git commit the tests make, theirs or an engine's (copier, cruft), uses this identity.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def git(*args: str, cwd: Path) -> str:
    """Run git with the tests' identity; return its output."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def commit_all(repo: Path, message: str) -> None:
    """Commit everything in the work tree."""
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)


def start_repository(path: Path, message: str = "generated") -> Path:
    """Make a directory a git repository on branch main with everything in one commit."""
    git("init", "-q", "-b", "main", cwd=path)
    commit_all(path, message)
    return path


def answers_of(project: Path) -> dict[str, Any]:
    """A project's .copier-answers.yml as data."""
    data: dict[str, Any] = yaml.safe_load((project / ANSWERS_FILE).read_text("utf-8"))
    return data


def template_files() -> list[str]:
    """The template's files as they are now: committed or not, git-ignored ones aside."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    return [rel for rel in filter(None, listed.split("\0")) if (ROOT / rel).is_file()]


def snapshot_template(dst: Path, tag: str = TEMPLATE_TAG) -> Path:
    """Copy the template as it is now (uncommitted edits included) into a tagged git repo.

    Both engines then read the same, clean source, and copier records a real tag.
    """
    for rel in template_files():
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst / rel)
    start_repository(dst, "template snapshot")
    git("tag", tag, cwd=dst)
    return dst


def render_cookiecutter(template: Path, answers: dict[str, Any], output_dir: Path) -> Path:
    """Bake with cookiecutter, non-interactively; return the project directory."""
    project = cookiecutter(
        str(template), no_input=True, extra_context=answers, output_dir=str(output_dir)
    )
    return Path(project)


def render_copier(
    template: Path, answers: dict[str, Any], dst: Path, vcs_ref: str | None = None
) -> Path:
    """Copy with copier, non-interactively (defaults for what is not given).

    Without ``vcs_ref`` copier takes the template's latest version tag.
    """
    copier.run_copy(
        str(template),
        str(dst),
        data=answers,
        vcs_ref=vcs_ref,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    return dst


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (answers file aside) by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ANSWERS_FILE
    }


def directories(root: Path) -> set[str]:
    """Every directory under root, so empty leftovers count as differences too."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}
