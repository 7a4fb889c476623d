"""What ``copier update`` removed from a project, and what to do about it, after the update.

copier deletes every file that the project's old version had and its new version lacks,
whether the project changed it or not, and says nothing: an option turned off, a file a
release deleted or renamed, a renamed package. This module runs last in an update
(``migrations.py settle``) and, for each tracked file that is gone:

* unchanged since the template wrote it: left removed, and named with the command that
  restores it;
* changed by the project and renamed (by a release, see releases/path-changes.yml, or
  by new answers such as package_name): the project's edits are merged into the new
  name with ``git merge-file`` (a clash gets conflict markers, like copier's own);
* changed by the project and not renamed: put back, and named with the command that
  deletes it.

It also names the project's own files left in a directory the template no longer has.
"Changed" is measured against the old version rendered again with the old answers: the
base copier itself diffed the project against.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import copier
import yaml
from extensions import CookiecutterContext
from jinja2 import Environment
from packaging.version import Version

ANSWERS_FILE = ".copier-answers.yml"
# The generated tree inside the template (copier.yml `_subdirectory`).
TREE = "{{cookiecutter.project_slug}}"
PATH_CHANGES = Path("releases") / "path-changes.yml"
# Characters that gitignore-style patterns (copier's exclude) give a meaning.
GLOB_SPECIAL = re.compile(r"[][*?!#\\]")


def load_path_changes(template: Path) -> dict[str, dict[str, Any]]:
    """releases/path-changes.yml: per release, the template paths it renamed and deleted."""
    rules_file = template / PATH_CHANGES
    rules = yaml.safe_load(rules_file.read_text("utf-8")) if rules_file.exists() else None
    return {release: changes or {} for release, changes in (rules or {}).items()}


@dataclass(frozen=True)
class PathChanges:
    """What the releases after one version, up to another, renamed and deleted."""

    renamed: dict[str, tuple[str, str]]  # old template path: (new template path, release)
    deleted: dict[str, str]  # template path: release

    @classmethod
    def between(cls, template: Path, version_from: str, version_to: str) -> PathChanges:
        renamed: dict[str, tuple[str, str]] = {}
        deleted: dict[str, str] = {}
        low, high = Version(version_from), Version(version_to)
        rules = load_path_changes(template)
        for release in sorted(rules, key=Version):
            if not low < Version(release) <= high:
                continue
            for old, new in (rules[release].get("renamed") or {}).items():
                # A later release may rename the new name again: follow the chain.
                for earlier, (target, _) in list(renamed.items()):
                    if target == old:
                        renamed[earlier] = (new, release)
                renamed[old] = (new, release)
            deleted.update(dict.fromkeys(rules[release].get("deleted") or [], release))
        return cls(renamed, deleted)


class PathRenderer:
    """Template paths rendered for a set of answers, part by part as copier renders them."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        context = {**answers, "_copier_conf": {"answers_file": ANSWERS_FILE}}
        self._namespace = CookiecutterContext(context)
        self._env = Environment(autoescape=False)  # noqa: S701 (renders names, not HTML)

    def __call__(self, template_path: str) -> str | None:
        parts = [
            self._env.from_string(part).render(cookiecutter=self._namespace)
            for part in PurePosixPath(template_path).parts
        ]
        return "/".join(parts) if all(parts) else None  # an empty part: not rendered


@dataclass(frozen=True)
class Outcome:
    """One file the update removed (or left stranded), and what became of it."""

    kind: str  # kept, carried, moved, removed, stranded, or restored (when nothing could be told)
    path: str
    why: str
    target: str = ""  # the new name (carried, moved) or a suggested one (stranded)
    conflicts: int = 0

    def line(self) -> str:
        """What the update prints: the file, what happened, and the command to undo it."""
        if self.kind == "kept":
            return f"kept {self.path}: you changed it. Delete it once done: git rm {self.path}"
        if self.kind == "restored":
            return f"put back {self.path}. Delete it if you do not need it: git rm {self.path}"
        if self.kind == "carried":
            clash = f", with {self.conflicts} conflict(s) to resolve" if self.conflicts else ""
            return (
                f"carried your changes of {self.path} into {self.target}{clash}. "
                f"Your old file: git show HEAD:./{self.path}"
            )
        if self.kind == "moved":
            return (
                f"moved {self.path} to {self.target} (unchanged). "
                f"Restore: git checkout HEAD -- {self.path}"
            )
        if self.kind == "removed":
            return f"removed {self.path} (unchanged). Restore: git checkout HEAD -- {self.path}"
        how = f"git mv {self.path} {self.target}" if self.target else f"git rm {self.path}"
        return f"left your own {self.path} where it is. Move or delete it: {how}"


def report(outcomes: list[Outcome]) -> list[str]:
    """The outcomes under their reasons, in the order first met."""
    by_reason: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_reason.setdefault(outcome.why, []).append(f"    {outcome.line()}")
    lines = [line for why, group in by_reason.items() for line in (f"  {why}:", *group)]
    return ["This update removed files; what became of each:", *lines] if lines else []


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def listed(cwd: Path, command: str, *args: str) -> set[str]:
    """The paths a git listing command names (NUL-separated, so any name survives)."""
    return set(filter(None, git(cwd, command, "-z", *args).split("\0")))


def proper(answers: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answers.items() if not key.startswith("_")}


def inside(path: str, directory: str) -> bool:
    return path.startswith(f"{directory}/")


@dataclass
class Update:
    """The state of a project right after ``copier update``, and the template it came from."""

    project: Path
    template: Path
    commit_from: str
    changes: PathChanges
    old_answers: dict[str, Any] = field(init=False)
    new_answers: dict[str, Any] = field(init=False)
    head_files: set[str] = field(init=False)
    new_files: set[str] = field(init=False)  # untracked, not ignored: the update's new files
    old_files: set[str] = field(init=False)  # the old version's files, for the old answers
    moved: dict[str, tuple[str, str]] = field(init=False)  # old path: (new path, why)
    deleted: dict[str, str] = field(init=False)  # old path: the release that deleted it

    def __post_init__(self) -> None:
        self.old_answers = yaml.safe_load(self.head_bytes(ANSWERS_FILE)) or {}
        self.new_answers = yaml.safe_load((self.project / ANSWERS_FILE).read_text("utf-8"))
        self.head_files = listed(self.project, "ls-tree", "-r", "--name-only", "HEAD")
        self.new_files = listed(self.project, "ls-files", "--others", "--exclude-standard")
        self.old_files, self.moved = set(), {}
        sources = listed(self.template, "ls-tree", "-r", "--name-only", self.commit_from, TREE)
        old_name, new_name = PathRenderer(self.old_answers), PathRenderer(self.new_answers)
        for source in sorted(sources):
            relative = source.removeprefix(f"{TREE}/")
            renamed = self.changes.renamed.get(relative)
            old, new = old_name(relative), new_name(renamed[0] if renamed else relative)
            if old and old != ANSWERS_FILE:
                self.old_files.add(old)
            if old and new and old != new:
                why = (
                    f"template {renamed[1]} renamed them" if renamed else "the answers rename them"
                )
                self.moved[old] = (new, why)
        self.deleted = {
            old: release
            for path, release in self.changes.deleted.items()
            if (old := old_name(path)) is not None
        }

    def head_bytes(self, path: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"HEAD:./{path}"], cwd=self.project, capture_output=True, check=True
        ).stdout

    def removal_reason(self, path: str) -> str:
        if path in self.deleted:
            return f"template {self.deleted[path]} deleted them"
        changed = sorted(
            key
            for key in {*proper(self.old_answers), *proper(self.new_answers)}
            if self.old_answers.get(key) != self.new_answers.get(key)
        )
        if changed:
            values = ", ".join(
                f"{key}: {self.old_answers.get(key)!r} -> {self.new_answers.get(key)!r}"
                for key in changed
            )
            return f"not in the project with the new answers ({values})"
        return "not in the new template version"

    def settle_one(self, path: str, old_copy: Path) -> Outcome:
        """Leave one removed file removed, carry its edits to its new name, or put it back."""
        base_file = old_copy / path
        base = base_file.read_bytes() if base_file.is_file() else None
        ours = self.head_bytes(path)
        target, why = self.moved.get(path, ("", ""))
        if not target or target in self.head_files or not (self.project / target).is_file():
            target, why = "", self.removal_reason(path)  # not renamed into a new file
        if base is not None and ours == base:
            return Outcome("moved" if target else "removed", path, why, target)
        # copier's --conflict rej leaves the project's hunks of a removed file in a .rej
        # next to it: the whole file is dealt with here instead.
        rejected = self.project / f"{path}.rej"
        if target and base is not None:
            conflicts = merge_into(self.project / target, base, ours)
            rejected.unlink(missing_ok=True)
            return Outcome("carried", path, why, target, conflicts)
        git(self.project, "checkout", "HEAD", "--", path)
        rejected.unlink(missing_ok=True)
        return Outcome("kept", path, why)

    def stranded(self, kept: set[str]) -> Iterator[Outcome]:
        """The project's own files in directories that now hold nothing of the template."""
        old_dirs = {str(PurePosixPath(path).parent) for path in self.old_files} - {"."}
        template_now = {path for path in self.old_files if (self.project / path).is_file()}
        template_now = (template_now - kept) | {
            path for path in self.new_files if not path.endswith(".rej")
        }
        for path in sorted(self.head_files - self.old_files - kept - {ANSWERS_FILE}):
            if not (self.project / path).is_file():
                continue
            home = next((str(d) for d in PurePosixPath(path).parents if str(d) in old_dirs), "")
            if not home or any(inside(other, home) for other in template_now):
                continue
            why = f"{home}/ is no longer the template's; {self.removal_reason(path)}"
            yield Outcome("stranded", path, why, self.new_home(path, home))

    def new_home(self, path: str, home: str) -> str:
        """Where the file goes if its directory was renamed with the template's files in it."""
        for old, (new, _) in self.moved.items():
            tail = old.removeprefix(f"{home}/")
            if inside(old, home) and new.endswith(f"/{tail}"):
                return new.removesuffix(tail) + path.removeprefix(f"{home}/")
        return ""


def render_old_version(
    template: Path, commit: str, answers: Mapping[str, Any], dst: Path, paths: list[str]
) -> None:
    """These files as copier diffed the project against them: old version, old answers."""
    # Every other file excluded (gitignore patterns, the last match wins): only these render.
    wanted = ["!/" + GLOB_SPECIAL.sub(r"\\\g<0>", path) for path in paths]
    copier.run_copy(
        str(template),
        str(dst),
        data=proper(answers),
        vcs_ref=commit,
        defaults=True,
        quiet=True,
        unsafe=True,
        skip_tasks=True,
        exclude=["*", *wanted],
    )


def merge_into(target: Path, base: bytes, ours: bytes) -> int:
    """Merge the project's edits (base to ours) into target; return the number of conflicts.

    The project's side comes first in a conflict, under the labels copier uses.
    """
    with tempfile.TemporaryDirectory(prefix="settle.") as scratch:
        ours_file, base_file = Path(scratch, "ours"), Path(scratch, "base")
        ours_file.write_bytes(ours)
        base_file.write_bytes(base)
        labels = ["-L", "before updating", "-L", "last update", "-L", "after updating"]
        merged = subprocess.run(
            ["git", "merge-file", "-p", *labels, str(ours_file), str(base_file), str(target)],
            capture_output=True,
            check=False,
        )
    if merged.returncode < 0:
        raise subprocess.CalledProcessError(merged.returncode, "git merge-file", merged.stderr)
    target.write_bytes(merged.stdout)
    return merged.returncode


def removed_from(project: Path, head_files: set[str]) -> list[str]:
    """The tracked files the work tree no longer has."""
    return sorted(
        path
        for path in head_files
        if not (project / path).exists() and not (project / path).is_symlink()
    )


def put_back(project: Path, path: str, error: Exception) -> Outcome:
    """When a removed file cannot be dealt with: restore it, so that nothing stays lost."""
    git(project, "checkout", "HEAD", "--", path)
    return Outcome("restored", path, f"the update could not tell what you changed ({error})")


def settle(
    project: Path, template: Path, *, commit_from: str, version_from: str, version_to: str
) -> list[Outcome]:
    """Deal with every tracked file the update removed; see the module docstring.

    Whatever fails, a removed file is put back: copier has deleted them already.
    """
    try:
        changes = PathChanges.between(template, version_from, version_to)
        update = Update(project, template, commit_from, changes)
    except Exception as error:  # anything at all
        head_files = listed(project, "ls-tree", "-r", "--name-only", "HEAD")
        return [put_back(project, path, error) for path in removed_from(project, head_files)]
    removed = removed_from(project, update.head_files)
    if not removed:
        return []
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="settle.old.") as scratch:
        old_copy = Path(scratch, "old")
        try:
            render_old_version(template, commit_from, update.old_answers, old_copy, removed)
        except Exception as error:  # then no file counts as unchanged, and all are kept
            print(f"could not render the old version to compare with: {error}", file=sys.stderr)
        for path in removed:
            try:
                outcomes.append(update.settle_one(path, old_copy))
            except Exception as error:  # anything at all
                outcomes.append(put_back(project, path, error))
    kept = {outcome.path for outcome in outcomes if outcome.kind in {"kept", "restored"}}
    return outcomes + list(update.stranded(kept))
