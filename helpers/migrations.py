"""The steps that ``copier update`` runs from ``_migrations`` in copier.yml.

Run by copier's own interpreter (``{{ _copier_python }}``, which has PyYAML, Jinja and
copier itself) in the project directory:

    python helpers/migrations.py check-answers              # before: refuse hand-edited answers
    python helpers/migrations.py rename-answer OLD NEW      # before: carry a renamed answer over
    python helpers/migrations.py fill-answer NAME --from OTHER  # before: record a missing answer
    python helpers/migrations.py settle                     # after: removed files, then uv.lock

At the "before" stage copier has rendered the old version with the old answers and has
not yet re-read them, so an answer changed here reaches the new version. copier passes
the versions in the environment (VERSION_FROM, VERSION_PEP440_FROM, VERSION_PEP440_TO).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from extensions import hook_module

POST_GEN = hook_module("post_gen_project")
ANSWERS_FILE = Path(POST_GEN.ANSWERS_FILE)


def read_answers(answers_file: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    return data


def write_answers(answers_file: Path, answers: Mapping[str, Any]) -> None:
    """The layout both engines write (copier rewrites the file at the end of the update anyway)."""
    answers_file.write_text(POST_GEN.dump_answers(answers), encoding="utf-8")


def rename_answer(answers: dict[str, Any], old: str, new: str) -> bool:
    """Move the answer ``old`` to ``new``; False when there is nothing to move.

    An answer already stored under the new name wins: the project was updated
    before, or the user set it by hand.
    """
    if old not in answers:
        return False
    value = answers.pop(old)
    answers.setdefault(new, value)
    return True


def fill_answer(answers: dict[str, Any], name: str, source: str) -> bool:
    """Record ``name`` as the recorded ``source`` when the file has no ``name``; False if not."""
    if name in answers or source not in answers:
        return False
    answers[name] = answers[source]
    return True


def recorded_answers(project: Path) -> tuple[str, dict[str, Any]] | None:
    """The newest committed answers file that the template tooling wrote: (commit, answers)."""
    log = subprocess.run(
        ["git", "log", "--format=%H", "--", str(ANSWERS_FILE)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:./{ANSWERS_FILE}"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        digest = POST_GEN.recorded_digest(shown.stdout)
        answers = yaml.safe_load(shown.stdout) or {}
        if digest and digest == POST_GEN.answers_digest(answers):
            return commit, answers
    return None


def hand_edit_report(project: Path, answers_file: Path) -> str | None:
    """A message naming what was edited by hand in the answers file, or None if nothing was.

    Files written before the digest line existed (v0.1.0) cannot be checked.
    """
    text = answers_file.read_text(encoding="utf-8")
    digest = POST_GEN.recorded_digest(text)
    answers = yaml.safe_load(text) or {}
    if digest is None or digest == POST_GEN.answers_digest(answers):
        return None
    lines = [
        f"{answers_file} was edited by hand. copier renders the project's old version with the",
        "answers in that file, so it would quietly undo the edit. Nothing was changed.",
    ]
    found = recorded_answers(project)
    if found is None:
        lines += [
            "The answers the template last wrote are not in this repository's history.",
            "Put back the values the project was made with (see `git log -p "
            f"{answers_file}`), commit, and give the new ones to copier with --data NAME=VALUE.",
        ]
        return "\n".join(lines)
    commit, recorded = found
    changed = sorted(
        key
        for key in {*answers, *recorded}
        if not key.startswith("_") and answers.get(key) != recorded.get(key)
    )
    for key in changed:
        lines.append(f"  {key}: recorded {recorded.get(key)!r}, now {answers.get(key)!r}")
    data = " ".join(
        "--data " + shlex.quote(f"{key}={data_value(answers[key])}")
        for key in changed
        if key in answers
    )
    lines += [
        f"Fix: put the recorded values back (as in commit {commit[:12]}), commit, then run",
        f"  copier update --trust --defaults {data}".rstrip(),
    ]
    return "\n".join(lines)


def data_value(value: Any) -> str:
    """An answer as copier's --data takes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def environment(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"settle: {name} is not set; this step runs from `copier update` (_migrations).")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steps that copier update runs.")
    parser.add_argument("--answers-file", type=Path, default=ANSWERS_FILE)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check-answers", help="stop if the answers file was edited by hand")
    rename = commands.add_parser("rename-answer", help="carry an answer over to its new name")
    rename.add_argument("old")
    rename.add_argument("new")
    fill = commands.add_parser("fill-answer", help="record a missing answer as another one")
    fill.add_argument("name")
    fill.add_argument("--from", dest="source", required=True)
    commands.add_parser("settle", help="after the update: removed files, then uv.lock")
    args = parser.parse_args(argv)

    answers_file: Path = args.answers_file
    if not answers_file.is_file():
        parser.error(f"no answers file at {answers_file.resolve()}")
    project = Path.cwd()

    if args.command == "check-answers":
        edited = hand_edit_report(project, answers_file)
        if edited:
            print(edited, file=sys.stderr)
            return 1
        return 0
    if args.command == "settle":
        import removed_files  # noqa: PLC0415 (it imports copier itself: only for this step)

        outcomes = removed_files.settle(
            project,
            Path(__file__).resolve().parent.parent,
            commit_from=environment("VERSION_FROM"),
            version_from=environment("VERSION_PEP440_FROM"),
            version_to=environment("VERSION_PEP440_TO"),
        )
        for line in removed_files.report(outcomes):
            print(line, file=sys.stderr)
        # The update's last line: whether uv.lock matches the updated project.
        print(POST_GEN.lock(project), file=sys.stderr)
        return 0

    answers = read_answers(answers_file)
    if args.command == "rename-answer" and rename_answer(answers, args.old, args.new):
        write_answers(answers_file, answers)
        print(f"answer {args.old!r} is now {args.new!r}", file=sys.stderr)
    if args.command == "fill-answer" and fill_answer(answers, args.name, args.source):
        write_answers(answers_file, answers)
        value = data_value(answers[args.name])
        print(f"recorded {args.name}: {value} (as {args.source})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
