"""Answer migrations that ``copier update`` runs from ``_migrations`` in copier.yml.

Run by copier's own interpreter (``{{ _copier_python }}``, which has PyYAML) in the
project directory, at the ``before`` stage: copier has rendered the old version
with the old answers and re-reads the answers file afterwards, so a renamed
answer reaches the new version under its new name.

    python helpers/migrations.py rename-answer OLD NEW [--answers-file PATH]
    python helpers/migrations.py fill-answer NAME --from OTHER [--answers-file PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Answer migrations for copier update.")
    commands = parser.add_subparsers(dest="command", required=True)
    rename = commands.add_parser("rename-answer", help="carry an answer over to its new name")
    rename.add_argument("old")
    rename.add_argument("new")
    rename.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    fill = commands.add_parser("fill-answer", help="record a missing answer as another one")
    fill.add_argument("name")
    fill.add_argument("--from", dest="source", required=True)
    fill.add_argument("--answers-file", type=Path, default=Path(".copier-answers.yml"))
    args = parser.parse_args(argv)

    answers_file: Path = args.answers_file
    if not answers_file.is_file():
        parser.error(f"no answers file at {answers_file.resolve()}")
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    if args.command == "rename-answer":
        changed = rename_answer(answers, args.old, args.new)
        note = f"answer {args.old!r} is now {args.new!r}"
    else:
        changed = fill_answer(answers, args.name, args.source)
        note = f"recorded {args.name}: {str(answers.get(args.name)).lower()} (as {args.source})"
    if changed:
        # The same layout copier writes (sorted keys, indent 4); copier rewrites it anyway.
        answers_file.write_text(
            HEADER + yaml.safe_dump(answers, indent=4, allow_unicode=True, sort_keys=True),
            encoding="utf-8",
        )
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
