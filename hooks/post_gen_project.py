"""cookiecutter's post-generation step: make the project look as copier made it.

Two things only, so that the tree equals what copier renders for the same
answers and the project can later move to ``copier update``:

* remove directories of disabled parts (copier skips a directory whose name
  renders empty; cookiecutter cannot, so such names render to a marker);
* write ``.copier-answers.yml`` exactly as copier writes it.

Runs with the generated project as the working directory. Unrendered, the
file is valid Python; tests import it to check it against copier.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

COOKIECUTTER_CONTEXT = r"""{{ cookiecutter | jsonify }}"""

ANSWERS_FILE = ".copier-answers.yml"
ANSWERS_HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"


def prune(root: Path, marker: str) -> None:
    """Delete every directory whose name ends with the disabled-part marker."""
    for path in sorted(root.rglob(f"*{marker}"), reverse=True):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def template_commit(context: Mapping[str, Any]) -> str | None:
    """The template version as copier records it (``git describe --tags --always``)."""
    if context.get("_commit"):  # cruft passes the commit it checked out
        return str(context["_commit"])
    repo_dir = context.get("_repo_dir")
    if not repo_dir:
        return None
    result = subprocess.run(
        ["git", "-C", str(from_invocation(repo_dir)), "describe", "--tags", "--always"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None  # not a git checkout: copier records no commit either
    return result.stdout.strip() or None


def from_invocation(path: str) -> Path:
    """A path as the user gave it to cookiecutter, made absolute.

    The hook runs inside the new project, so a relative path (``cookiecutter .``)
    is resolved against the shell's working directory, which ``PWD`` keeps.
    """
    given = Path(path).expanduser()
    if given.is_absolute():
        return given
    return (Path(os.environ.get("PWD", Path.cwd())) / given).resolve()


def template_source(context: Mapping[str, Any]) -> str:
    """``_src_path`` for copier: the template as the user named it, local paths made absolute.

    An absolute path keeps ``copier update`` working from inside the project.
    """
    template = str(context["_template"])
    if "://" in template or template.startswith(("gh:", "gl:", "git@")):
        return template
    local = from_invocation(template)
    return str(local) if local.exists() else template


def copier_answers(context: Mapping[str, Any], questions: list[str]) -> dict[str, Any]:
    """The answers copier would remember for the same run (it asks every question)."""
    answers: dict[str, Any] = {}
    commit = template_commit(context)
    if commit:
        answers["_commit"] = commit
    answers["_src_path"] = template_source(context)
    answers.update({question: context[question] for question in questions})
    return answers


def dump_answers(answers: Mapping[str, Any]) -> str:
    """Serialise like copier's ``to_nice_yaml`` (sorted keys, indent 4)."""
    return ANSWERS_HEADER + yaml.safe_dump(
        dict(answers), indent=4, allow_unicode=True, default_flow_style=False, sort_keys=True
    )


def main() -> int:
    context = json.loads(COOKIECUTTER_CONTEXT)
    prune(Path.cwd(), context["__prune"])
    questions = [key for key in context if not key.startswith("_")]
    answers = copier_answers(context, questions)
    Path(ANSWERS_FILE).write_text(dump_answers(answers), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
