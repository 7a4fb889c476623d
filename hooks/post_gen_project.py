"""The post-generation step both engines run, and the answers file both engines write.

cookiecutter runs this file as its post-generation hook (after rendering the
JSON literal below), so the tree equals what copier renders for the same
answers and the project can later move to ``copier update``:

* remove directories of disabled parts (copier skips a directory whose name
  renders empty; cookiecutter cannot, so such names render to a marker);
* write ``.copier-answers.yml`` exactly as copier writes it;
* lock the dependencies (``uv lock``), when the package index can be reached.

copier runs the last step as a task (``post_gen_project.py lock``, see
copier.yml), and ``helpers/migrations.py settle`` runs it after every update.
Unrendered, the file is valid Python; copier's side and the tests import it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# Rendered by cookiecutter only; copier never reads it.
COOKIECUTTER_CONTEXT = r"""{{ cookiecutter | jsonify }}"""
# The rest is not a template: {% raw %}

ANSWERS_FILE = ".copier-answers.yml"
ANSWERS_HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
# The second line of the answers file: a digest of the answers, so that an update can tell a hand
# edit (which copier would silently ignore) from what the template wrote.
DIGEST_LINE = "# answers-sha256: {digest} (change answers with `copier update --data NAME=VALUE`)\n"

# Set to 1 to skip `uv lock` (the template's own tests do, for the hundreds of bakes that
# never install anything); the note then says how to lock later.
SKIP_LOCK_VARIABLE = "TEMPLATE_SKIP_LOCK"
# Bounds of the lock attempt: generation must never hang on an unreachable index.
LOCK_HTTP_TIMEOUT = "10"  # seconds per request (uv's UV_HTTP_TIMEOUT)
LOCK_TIMEOUT = 180  # seconds for the whole `uv lock`
LOCK_ADVICE = "run `make lock`, then commit uv.lock"


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


def answers_digest(answers: Mapping[str, Any]) -> str:
    """A digest of the answers proper (not ``_commit`` or ``_src_path``, which users may fix)."""
    proper = {key: value for key, value in answers.items() if not key.startswith("_")}
    text = json.dumps(proper, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def recorded_digest(text: str) -> str | None:
    """The digest an answers file's second line records, or None (files before v0.2.0)."""
    prefix, _, suffix = DIGEST_LINE.partition("{digest}")
    for line in text.splitlines(keepends=True)[:2]:
        if line.startswith(prefix) and line.endswith(suffix):
            return line.removeprefix(prefix).removesuffix(suffix)
    return None


def dump_answers(answers: Mapping[str, Any]) -> str:
    """Serialise like copier's answers file template (header, digest, ``to_nice_yaml``)."""
    return (
        ANSWERS_HEADER
        + DIGEST_LINE.format(digest=answers_digest(answers))
        + yaml.safe_dump(
            dict(answers), indent=4, allow_unicode=True, default_flow_style=False, sort_keys=True
        )
    )


def lock(project: Path) -> str:
    """Run ``uv lock`` in the project; return a one-line note on the outcome.

    Never fails and never waits long: no uv, no reachable index, no suitable Python or a
    project uv cannot read all end in a note that says how to lock later. uv may not
    download an interpreter here (generation must need no network beyond the index).
    """
    had_lock = (project / "uv.lock").exists()
    missed = "uv.lock not re-resolved" if had_lock else "uv.lock not written"
    if os.environ.get(SKIP_LOCK_VARIABLE) == "1":
        return f"{missed} ({SKIP_LOCK_VARIABLE}=1): {LOCK_ADVICE}."
    uv = shutil.which("uv")
    if uv is None:
        return f"{missed}: uv is not installed; install uv, {LOCK_ADVICE}."
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    env.setdefault("UV_HTTP_TIMEOUT", LOCK_HTTP_TIMEOUT)
    try:
        result = subprocess.run(
            [uv, "lock"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{missed}: `uv lock` took over {LOCK_TIMEOUT} s; {LOCK_ADVICE}."
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != 0:
        reason = next((line for line in lines if line.startswith("error:")), "uv lock failed")
        # uv lists the causes outermost first; the last one is the root (say, a refused connection).
        cause = next((line for line in reversed(lines) if line.startswith("cause:")), "")
        detail = f"{reason} ({cause})" if cause else reason
        return f"{missed}: {detail}; {LOCK_ADVICE}."
    resolved = next((line for line in lines if line.startswith("Resolved")), "locked")
    verb = "re-resolved" if had_lock else "written"
    return f"uv.lock {verb} ({resolved}); commit it."


def made_by_cruft(context: Mapping[str, Any]) -> bool:
    """cruft passes the template commit and renders the template again for every update."""
    return bool(context.get("_commit")) and not context.get("_repo_dir")


def main(argv: list[str]) -> int:
    if argv == ["lock"]:  # copier's task, in the new project
        print(lock(Path.cwd()), file=sys.stderr)
        return 0
    context = json.loads(COOKIECUTTER_CONTEXT)
    prune(Path.cwd(), context["__prune"])
    questions = [key for key in context if not key.startswith("_")]
    answers = copier_answers(context, questions)
    Path(ANSWERS_FILE).write_text(dump_answers(answers), encoding="utf-8")
    if made_by_cruft(context):
        # cruft runs this hook in scratch copies on every update and diff: a lock there would
        # land in the update's patch. The project locks itself once, by hand.
        print(f"uv.lock not written (cruft): {LOCK_ADVICE}.", file=sys.stderr)
    else:
        print(lock(Path.cwd()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
# {% endraw %}
