"""Updates never lose a line: real histories of the template and of projects made from it.

The template is committed and tagged OLD; projects are made from it with copier, cookiecutter
and cruft, committed, then edited by their "users": generated files changed (among them files
the next release renames or deletes, and files an answer switches off), files of their own, all
committed. The template then releases NEW: a new file, an edit to a file the users left alone,
an edit to the very line a user changed, two renamed files, two deleted ones and a new
dependency. Each project is updated (`copier update` or `cruft update`) as it is, with an option
turned off, or with the project renamed, and every line the user wrote must be somewhere the
user sees: in the tree, in a conflict that `git status` shows and the generated pre-commit
refuses to commit, or in a message with the command that restores it.

More histories: a v0.1.0-like release whose copier asked use_redis only without the worker
(turning the worker off keeps the cache); real `uv lock` at generation and after an update, and
without an index; a hand-edited answer, a gone `_commit` and a moved template; a renamed
question carried over by the `_migrations` example of copier.yml.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import run
from cruft import create as cruft_create
from engines import (
    GIT_IDENTITY,
    ROOT,
    answers_of,
    commit_all,
    git,
    render_cookiecutter,
    render_copier,
    snapshot_template,
    start_repository,
    tree,
)
from packaging.version import Version

BIN = Path(sys.executable).parent
TEMPLATE_DIR = "{{cookiecutter.project_slug}}"
DEPLOY_DIR = (
    "{% if cookiecutter.deploy == 'ssh-compose' %}deploy"
    "{% elif cookiecutter.__prune %}deploy{{ cookiecutter.__prune }}{% endif %}"
)
API_PACKAGE = "services/api/src/{{cookiecutter.package_name}}_api"
# Both PEP 440 versions; NEW is the release named in copier.yml's `_migrations` example.
OLD, NEW = "v1.1.0", "v1.2.0"
ANSWERS = {"project_name": "Panager", "license": "MIT"}
CHANGED_ANSWER = ("license", "Apache-2.0")

# The template's v1.2.0: a new file, a file no user touches, and the line a user changes too.
NEW_FILE = "docs/runbook.md"
NEW_FILE_SOURCE = "# {{ cookiecutter.project_name }} runbook\n\nWhat to do when a deploy fails.\n"
UNTOUCHED_FILE, UNTOUCHED_ADDITION = ".gitignore", "# Local databases\n*.sqlite3\n"
OVERLAP_FILE = "README.md"
TEMPLATE_LINE = "{{ cookiecutter.description }} Maintained by {{ cookiecutter.author_name }}."
TEMPLATE_LINE_RENDERED = "A FastAPI service. Maintained by Your Name."
# ... renames (one of them inside a directory that only some answers have), with a change ...
RENAMED = {
    "docker-compose.staging.yml": "compose.staging.yml",
    f"{DEPLOY_DIR}/set-env.sh": f"{DEPLOY_DIR}/env-file.sh",
}
RENAMED_IN_PROJECT = {
    "docker-compose.staging.yml": "compose.staging.yml",
    "deploy/set-env.sh": "deploy/env-file.sh",
}
STAGING_ADDITION = "# Deployed by .github/workflows/staging.yml.\n"
# ... deletions, one file that users edit and one they leave alone, and a new dependency.
DELETED = [".github/dependabot.yml", ".editorconfig"]
NEW_DEPENDENCY = "tomli-w"

# The users' edits: a line added to each of these generated files ...
USER_EDITS = {
    "docker-compose.staging.yml": "# Our staging host is staging.panager.example.",
    "deploy/set-env.sh": "# Our runbook calls this script too.",
    ".github/dependabot.yml": "# We review these pull requests on Mondays.",
    "services/api/src/panager_api/db.py": "# Pool sizes tuned for our staging database.",
    "services/api/src/panager_api/notes.py": "# Notes are capped at 10 kB by our proxy too.",
    "services/api/migrations/versions/0001_create_notes.py": "# Applied to production 2026-11.",
}
USER_LINE = "A FastAPI service that keeps our team's notes."  # replaces the description line
USER_TARGET = "\n.PHONY: hello\nhello: ## Our own target\n\t@echo hello\n"
# ... and files of their own, some in directories that only some answers have.
USER_FILES = {
    "notes/decisions.md": "# Decisions\n\n1. We keep notes in PostgreSQL.\n",
    "services/api/src/panager_api/tags.py": '"""Tags for notes."""\n\nTAGS = ("work", "home")\n',
    "services/api/migrations/versions/0002_add_tags.py": '"""Add tags."""\n\nrevision = "0002"\n',
}

CONFLICT_MARKER = re.compile(r"^(<{7} |>{7} )", re.MULTILINE)


def tool_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for copier, cruft and pre-commit: the tests' git identity, a private cache."""
    return {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home / "pre-commit"), **extra}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def release_new_version(template: Path, tag: str = NEW) -> None:
    """Commit the template's next version, with its path changes declared, and tag it."""
    source = template / TEMPLATE_DIR
    (source / NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (source / NEW_FILE).write_text(NEW_FILE_SOURCE, encoding="utf-8")
    with (source / UNTOUCHED_FILE).open("a", encoding="utf-8") as handle:
        handle.write(UNTOUCHED_ADDITION)
    edit(source / OVERLAP_FILE, "\n{{ cookiecutter.description }}\n", f"\n{TEMPLATE_LINE}\n")
    for old, new in RENAMED.items():
        git("mv", f"{TEMPLATE_DIR}/{old}", f"{TEMPLATE_DIR}/{new}", cwd=template)
    edit(source / "compose.staging.yml", "\nservices:\n", f"\n{STAGING_ADDITION}services:\n")
    for path in DELETED:
        git("rm", "-q", f"{TEMPLATE_DIR}/{path}", cwd=template)
    edit(
        source / "services/api/pyproject.toml",
        '    "pydantic-settings>=2.16",\n',
        f'    "pydantic-settings>=2.16",\n    "{NEW_DEPENDENCY}>=1.0",\n',
    )
    rules = template / "releases" / "path-changes.yml"
    declared = yaml.safe_load(rules.read_text("utf-8")) or {}
    declared[tag] = {"renamed": RENAMED, "deleted": DELETED}
    rules.write_text(yaml.safe_dump(declared), "utf-8")
    commit_all(template, "runbook; staging compose and env script renamed; two files dropped")
    git("tag", tag, cwd=template)


def edit_as_user(project: Path) -> None:
    """What a team does to its new repository, committed like they would."""
    edit(project / OVERLAP_FILE, "\nA FastAPI service.\n", f"\n{USER_LINE}\n")
    with (project / "Makefile").open("a", encoding="utf-8") as handle:
        handle.write(USER_TARGET)
    for rel, line in USER_EDITS.items():
        lines = (project / rel).read_text("utf-8").splitlines(keepends=True)
        lines.insert(1, f"{line}\n")  # below the first line: clear of what the release changes
        (project / rel).write_text("".join(lines), "utf-8")
    for rel, text in USER_FILES.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, encoding="utf-8")
    commit_all(project, "our changes")


# --- how each engine makes a project and updates it -------------------------------------------


def make_project(engine: str, template: Path, dst: Path, answers: dict[str, Any]) -> Path:
    """Make a project from the template's newest version tag with one engine, into dst."""
    if engine == "copier":
        return render_copier(template, answers, dst / "panager")
    if engine == "cookiecutter":
        return render_cookiecutter(template, answers, dst)
    return Path(cruft_create(str(template), output_dir=dst, no_input=True, extra_context=answers))


@dataclass(frozen=True)
class Scenario:
    made_by: str  # copier, cookiecutter or cruft
    updated_by: str  # copier or cruft
    conflict: str = "inline"  # copier's --conflict mode (cruft's `git apply -3` is inline too)

    @property
    def name(self) -> str:
        mode = "" if self.conflict == "inline" else f"-{self.conflict}"
        return f"{self.made_by}-project/{self.updated_by}-update{mode}"

    def update(
        self,
        project: Path,
        home: Path,
        data: dict[str, Any],
        env: dict[str, str] | None = None,
        to: str = NEW,
    ) -> str:
        """Update the project to release `to` (copier: the latest), changing answers by `data`."""
        if self.updated_by == "cruft":
            command: list[str | Path] = [BIN / "cruft", "update", "--skip-apply-ask"]
            command += ["--checkout", to, "--variables-to-update", json.dumps(data)]
        else:
            command = [BIN / "copier", "update", "--trust", "--defaults"]
            command += [f"--conflict={self.conflict}"]
            command += [f"--data={key}={as_data(value)}" for key, value in data.items()]
        return run(command, cwd=project, env=env or tool_env(home))


def as_data(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


COPIER_UPDATE = Scenario("copier", "copier")
BY_ENGINE = [COPIER_UPDATE, Scenario("cookiecutter", "copier"), Scenario("cruft", "cruft")]
SCENARIOS = [
    *BY_ENGINE,
    Scenario("copier", "copier", conflict="rej"),
    Scenario("cruft", "copier"),
]


@dataclass(frozen=True)
class History:
    """A template with two versions, and projects made at the first one and edited since."""

    template: Path
    made: dict[str, Path]  # engine: its project, made at the old version, edited by its user

    def project(self, engine: str, dst: Path) -> Path:
        """A fresh copy of the project that `engine` made (tests change it)."""
        return Path(shutil.copytree(self.made[engine], dst / "project", symlinks=True))


def make_history(
    root: Path,
    answers: dict[str, Any],
    *,
    old: str = OLD,
    engines: tuple[str, ...] = ("copier", "cookiecutter", "cruft"),
    edit_old: Callable[[Path], None] | None = None,
    release: Callable[[Path], None] = release_new_version,
) -> History:
    """The template at `old` (as `edit_old` leaves it), a project per engine, then the release."""
    template = root / "template"
    snapshot_template(template, tag="current")
    if edit_old is not None:
        edit_old(template)
        commit_all(template, "the old version")
    git("tag", old, cwd=template)
    made = {}
    for engine in engines:
        (root / engine).mkdir()
        made[engine] = start_repository(make_project(engine, template, root / engine, answers))
        edit_as_user(made[engine])
    git("checkout", "-q", "current", "--", ".", cwd=template)  # the template as it is now
    release(template)
    return History(template, made)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> History:
    """OLD, a project per engine, NEW: one history for all the scenarios of a test worker."""
    return make_history(tmp_path_factory.mktemp("released"), ANSWERS)


# --- what an update must leave ----------------------------------------------------------------


def user_added_lines(project: Path) -> dict[str, list[str]]:
    """The lines the user's commits added since the project was made, by file."""
    made = git("rev-list", "--max-parents=0", "HEAD", cwd=project).strip()
    diff = git("diff", "--unified=0", made, "HEAD", cwd=project)
    added: dict[str, list[str]] = {}
    current = ""
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            current = line.removeprefix("+++ b/")
        elif line.startswith("+") and not line.startswith("+++") and line[1:].strip():
            added.setdefault(current, []).append(line[1:])
    return added


def visible_conflicts(project: Path) -> set[str]:
    """Files with conflict markers, and .rej files, in the work tree."""
    found = set()
    for path in project.rglob("*"):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        rel = path.relative_to(project).as_posix()
        if path.suffix == ".rej" or CONFLICT_MARKER.search(
            path.read_text("utf-8", errors="replace")
        ):
            found.add(rel)
    return found


def shown_for(project: Path, rel: str) -> str:
    """A file's text together with its .rej, if an update left one."""
    rejected = project / f"{rel}.rej"
    text = (project / rel).read_text("utf-8")
    return text + (rejected.read_text("utf-8") if rejected.exists() else "")


def ignored(project: Path, rel: str) -> bool:
    return (
        subprocess.run(["git", "check-ignore", "-q", rel], cwd=project, check=False).returncode == 0
    )


def carried_to(output: str, rel: str) -> str | None:
    found = re.search(rf"carried your changes of {re.escape(rel)} into (\S+?)(?=[.,] )", output)
    return found.group(1) if found else None


def lost_lines(
    project: Path,
    user_lines: dict[str, list[str]],
    output: str,
    renamed: Callable[[str], str] = lambda rel: RENAMED_IN_PROJECT.get(rel, rel),
) -> dict[str, list[str]]:
    """The user's lines that are nowhere the user sees, by the file they were written in.

    A line counts as seen in its file, in the file an update message says it was carried to,
    or in the file's new name (cruft follows renames as git does), or in the .rej of one of
    those, as long as git does not ignore that file.
    """
    lost = {}
    for rel, lines in user_lines.items():
        names = [rel, carried_to(output, rel) or rel, renamed(rel)]
        shown = [shown for name in names for shown in (name, f"{name}.rej")]
        text = "".join(
            (project / path).read_text("utf-8")
            for path in dict.fromkeys(shown)
            if (project / path).is_file() and not ignored(project, path)
        )
        missing = [line for line in lines if line not in text]
        if missing:
            lost[rel] = missing
    return lost


def removed_unnamed(project: Path, output: str) -> list[str]:
    """Tracked files the update removed that its output does not name with a way back."""
    tracked = git("ls-tree", "-r", "--name-only", "HEAD", cwd=project).split()
    return [
        rel
        for rel in tracked
        if not (project / rel).exists()
        and f"git checkout HEAD -- {rel}" not in output
        and carried_to(output, rel) is None
    ]


UNMERGED = "Committing is not possible because you have unmerged files."


def commits_refused(project: Path, home: Path, conflicts: set[str]) -> None:
    """A commit of one unrelated file, then `git add -A && git commit`: both refused.

    The first leaves the conflicts unstaged: pre-commit's guard sees .rej files and new files
    anyway, and git itself refuses while a file the update marked as unmerged is left. The
    second stages everything, as the issue's user did. Hooks from GitHub cannot be installed
    here; the project's local ones run through pre-commit itself, as a real git hook.
    """
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text("utf-8"))
    local = home / "local-hooks.yaml"
    local.write_text(
        yaml.safe_dump({"repos": [r for r in config["repos"] if r["repo"] == "local"]}), "utf-8"
    )
    env = tool_env(home)
    run([BIN / "pre-commit", "install", "--config", local], cwd=project, env=env)
    head = git("rev-parse", "HEAD", cwd=project)
    (project / "unrelated.txt").write_text("a file of its own\n", "utf-8")
    for add in (["unrelated.txt"], ["-A"]):
        git("add", *add, cwd=project)
        committed = subprocess.run(
            ["git", "commit", "-m", "take the update"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = committed.stdout + committed.stderr
        assert committed.returncode != 0, output
        assert git("rev-parse", "HEAD", cwd=project) == head
        named = {rel for rel in conflicts if f"{rel}:" in output}
        assert named == conflicts or (add != ["-A"] and UNMERGED in output), output


def last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def template_commit(template: Path, ref: str) -> str:
    return git("rev-parse", f"{ref}^{{commit}}", cwd=template).strip()


@dataclass(frozen=True)
class Updated:
    """A copy of a history's project, updated; what the user had before, and what it said."""

    project: Path
    output: str
    user_lines: dict[str, list[str]]
    answers_before: dict[str, Any]

    @classmethod
    def run(
        cls, history: History, scenario: Scenario, home: Path, data: dict[str, Any], to: str = NEW
    ) -> Updated:
        project = history.project(scenario.made_by, home)
        user_lines, answers_before = user_added_lines(project), answers_of(project)
        output = scenario.update(project, home, data, to=to)
        return cls(project, output, user_lines, answers_before)

    def lost(self, renamed: Callable[[str], str] | None = None) -> dict[str, list[str]]:
        """The user's lines that are nowhere the user sees (see lost_lines)."""
        if renamed is None:
            return lost_lines(self.project, self.user_lines, self.output)
        return lost_lines(self.project, self.user_lines, self.output, renamed)

    def answers_moved(self, *given: str) -> list[str]:
        """Answers that changed although the update did not give them."""
        after = answers_of(self.project)
        keys = {*after, *self.answers_before} - {*given, "_commit"}
        return sorted(key for key in keys if after.get(key) != self.answers_before.get(key))


# --- the release, with an answer changed on the way -------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_update_brings_the_release_and_keeps_the_users_work(
    tmp_path: Path, released: History, scenario: Scenario
) -> None:
    user_file = next(iter(USER_FILES))
    user_file_before = (released.made[scenario.made_by] / user_file).read_bytes()
    key, value = CHANGED_ANSWER
    updated = Updated.run(released, scenario, tmp_path, {key: value})
    project, output = updated.project, updated.output

    # The release arrived: a new file (rendered), an edit to a file the user left alone.
    assert (project / NEW_FILE).read_text("utf-8").startswith("# Panager runbook\n")
    assert (project / UNTOUCHED_FILE).read_text("utf-8").endswith(UNTOUCHED_ADDITION)
    # The changed answer was applied on the way.
    assert answers_of(project)[key] == value
    assert (project / "LICENSE").read_text("utf-8").lstrip().startswith("Apache License")
    assert f'license = "{value}"' in (project / "pyproject.toml").read_text("utf-8")
    # Every line the user wrote is in the tree or in a visible conflict; their own file as it was.
    assert updated.lost() == {}
    assert (project / user_file).read_bytes() == user_file_before
    # Both sides of the overlap are there to merge by hand; git status shows the conflicts,
    # and the project's pre-commit refuses `git add -A && git commit` while any is left.
    conflicts = visible_conflicts(project)
    assert conflicts & {OVERLAP_FILE, f"{OVERLAP_FILE}.rej"}
    assert TEMPLATE_LINE_RENDERED in shown_for(project, OVERLAP_FILE)
    status = git("status", "--porcelain", "--untracked-files=all", cwd=project)
    assert [rel for rel in conflicts if rel not in status] == []
    commits_refused(project, tmp_path, conflicts)

    recorded = answers_of(project)["_commit"]
    if scenario.updated_by == "cruft":
        # cruft applies the release as a patch: an edited file it deletes stays (its deletion
        # does not apply), a renamed one is followed by git's rename detection.
        assert recorded == template_commit(released.template, NEW)
        cruft_state = json.loads((project / ".cruft.json").read_text("utf-8"))
        assert cruft_state["commit"] == recorded
        assert cruft_state["context"]["cookiecutter"][key] == value
        return

    assert recorded == NEW
    if scenario.conflict == "inline":
        assert conflicts == {OVERLAP_FILE}
        assert f"UU {OVERLAP_FILE}\n" in status  # unmerged: git refuses it until it is added
    else:
        assert conflicts == {f"{OVERLAP_FILE}.rej"}
    # The renamed files carry the user's edits to their new names, with the release's change.
    for old, new in RENAMED_IN_PROJECT.items():
        assert not (project / old).exists()
        assert USER_EDITS[old] in (project / new).read_text("utf-8")
        assert f"carried your changes of {old} into {new}." in output
    assert STAGING_ADDITION in (project / "compose.staging.yml").read_text("utf-8")
    # The deleted file the user edited stays, named with the command that deletes it; the one
    # the user never touched goes, named with the command that brings it back.
    assert "kept .github/dependabot.yml: you changed it. Delete it once done: git rm" in output
    assert (
        "removed .editorconfig (unchanged). Restore: git checkout HEAD -- .editorconfig" in output
    )
    assert not (project / ".editorconfig").exists()
    assert removed_unnamed(project, output) == []
    assert last_line(output).startswith("uv.lock not written (TEMPLATE_SKIP_LOCK=1)")


# --- options turned off, and a project renamed ------------------------------------------------


@pytest.mark.parametrize("scenario", BY_ENGINE, ids=lambda scenario: scenario.name)
def test_turning_the_database_off_keeps_what_the_user_wrote(
    tmp_path: Path, released: History, scenario: Scenario
) -> None:
    updated = Updated.run(released, scenario, tmp_path, {"database": "none"})
    project, output = updated.project, updated.output

    assert not (project / "services/api/alembic.ini").exists()  # the option is off
    assert updated.lost() == {}
    assert updated.answers_moved("database") == []
    if scenario.updated_by == "cruft":
        return
    for rel in (
        "services/api/src/panager_api/db.py",
        "services/api/migrations/versions/0001_create_notes.py",
    ):
        assert f"kept {rel}: you changed it." in output
    own = "services/api/migrations/versions/0002_add_tags.py"
    assert f"left your own {own} where it is. Move or delete it: git rm {own}" in output
    assert "not in the project with the new answers (database: 'postgres' -> 'none')" in output
    assert removed_unnamed(project, output) == []


def renamed_with_the_project(rel: str) -> str:
    return RENAMED_IN_PROJECT.get(rel, rel).replace("/panager_api/", "/notes_hub_api/")


@pytest.mark.parametrize("scenario", BY_ENGINE, ids=lambda scenario: scenario.name)
def test_renaming_the_project_carries_the_users_edits(
    tmp_path: Path, released: History, scenario: Scenario
) -> None:
    data = {"project_slug": "notes-hub", "package_name": "notes_hub"}
    updated = Updated.run(released, scenario, tmp_path, data)
    project, output = updated.project, updated.output

    new_package = project / "services/api/src/notes_hub_api"
    assert (new_package / "app.py").is_file()
    assert 'name = "notes-hub"' in (project / "pyproject.toml").read_text("utf-8")
    assert updated.lost(renamed_with_the_project) == {}
    assert updated.answers_moved(*data) == []
    if scenario.updated_by == "cruft":
        return
    for name in ("db.py", "notes.py"):
        old = f"services/api/src/panager_api/{name}"
        assert carried_to(output, old) == f"services/api/src/notes_hub_api/{name}"
        assert not (project / old).exists()
    own = "services/api/src/panager_api/tags.py"
    assert f"left your own {own} where it is. Move or delete it: git mv {own} " in output
    assert f"git mv {own} services/api/src/notes_hub_api/tags.py" in output
    assert removed_unnamed(project, output) == []


def test_when_the_removed_files_cannot_be_told_apart_all_are_put_back(
    tmp_path: Path, released: History
) -> None:
    """The last step, run as copier runs it, with a version the template does not have."""
    project = released.project("copier", tmp_path)
    gone = [".editorconfig", "services/api/src/panager_api/db.py"]
    for rel in gone:
        (project / rel).unlink()  # as copier deletes them
    env = tool_env(
        tmp_path, VERSION_FROM="0" * 40, VERSION_PEP440_FROM="1.1.0", VERSION_PEP440_TO="1.2.0"
    )
    settle: list[str | Path] = [
        sys.executable,
        released.template / "helpers/migrations.py",
        "settle",
    ]
    output = run(settle, cwd=project, env=env)
    assert git("status", "--porcelain", cwd=project) == ""
    for rel in gone:
        assert f"put back {rel}. Delete it if you do not need it: git rm {rel}" in output
    assert last_line(output).startswith("uv.lock not written (TEMPLATE_SKIP_LOCK=1)")


# --- the worker turned off, in a project from a release that did not record use_redis ---------

WORKER = "services/worker/src/panager_worker"
WORKER_EDIT = (f"{WORKER}/jobs.py", "# Our jobs must finish within a minute.")
WORKER_OWN = f"{WORKER}/reports.py"
CACHE_EDIT = ("services/api/src/panager_api/cache.py", "# Entries expire after 5 minutes for us.")


def as_in_v0_1_0(template: Path) -> None:
    """v0.1.0 asked use_redis only without the worker, and recorded it only then."""
    edit(
        template / "copier.yml",
        "  default: false\n\ndeploy:",
        '  default: false\n  when: "{{ not with_worker }}"\n\ndeploy:',
    )
    edit(
        template / "hooks" / "post_gen_project.py",
        "answers.update({question: context[question] for question in questions})",
        "answers.update({q: context[q] for q in questions"
        ' if q != "use_redis" or not context["with_worker"]})',
    )


def release_current(template: Path) -> None:
    """v0.2.0: the template as it is, whose `_migrations` fill in use_redis."""
    commit_all(template, "ask use_redis whatever with_worker says")
    git("tag", "v0.2.0", cwd=template)


def edit_worker_project(project: Path) -> None:
    for rel, line in (WORKER_EDIT, CACHE_EDIT):
        with (project / rel).open("a", encoding="utf-8") as handle:
            handle.write(f"{line}\n")
    (project / WORKER_OWN).write_text('"""Our reports."""\n', "utf-8")
    commit_all(project, "our worker changes")


@pytest.fixture(scope="module")
def worker_history(tmp_path_factory: pytest.TempPathFactory) -> History:
    history = make_history(
        tmp_path_factory.mktemp("v0.1.0"),
        {**ANSWERS, "with_worker": True},
        old="v0.1.0",
        edit_old=as_in_v0_1_0,
        release=release_current,
    )
    for project in history.made.values():
        edit_worker_project(project)
    return history


@pytest.mark.parametrize("scenario", BY_ENGINE, ids=lambda scenario: scenario.name)
def test_turning_the_worker_off_keeps_the_cache_and_the_users_lines(
    tmp_path: Path, worker_history: History, scenario: Scenario
) -> None:
    # cruft records every answer (use_redis: false here) and has no migrations: its users give
    # use_redis with the change, as the README says.
    data: dict[str, Any] = {"with_worker": False}
    if scenario.updated_by == "cruft":
        data["use_redis"] = True
    updated = Updated.run(worker_history, scenario, tmp_path, data, to="v0.2.0")
    project, output = updated.project, updated.output

    assert "use_redis" not in updated.answers_before  # as v0.1.0 wrote it
    assert not (project / "services/worker/pyproject.toml").exists()  # the worker is gone
    cache, line = CACHE_EDIT
    assert line in (project / cache).read_text("utf-8")  # the api's cache stays
    assert updated.lost() == {}
    assert answers_of(project)["use_redis"] is True
    assert updated.answers_moved("with_worker", "use_redis") == []
    if scenario.updated_by == "cruft":
        return
    assert "recorded use_redis: true (as with_worker)" in output
    assert f"kept {WORKER_EDIT[0]}: you changed it." in output
    assert (
        f"left your own {WORKER_OWN} where it is. Move or delete it: git rm {WORKER_OWN}" in output
    )
    assert removed_unnamed(project, output) == []


# --- uv.lock: written at generation, re-resolved by the update, or a last line that says so -----

LOCK_ANSWERS = {**ANSWERS, "python_version": "3.11"}  # the template's own CI has 3.11 at hand


def locking(home: Path, **variables: str) -> dict[str, str]:
    """The environment of a user's shell: no TEMPLATE_SKIP_LOCK."""
    env = tool_env(home, **variables)
    env.pop("TEMPLATE_SKIP_LOCK", None)
    return env


def spy_on_uv(home: Path) -> tuple[dict[str, str], Path]:
    """A user's environment whose `uv` is the real one, logging the directory it runs in."""
    spy, log = home / "spy", home / "uv-runs.log"
    spy.mkdir()
    (spy / "uv").write_text(f'#!/bin/sh\necho "$PWD" >> "{log}"\nexec "{BIN / "uv"}" "$@"\n')
    (spy / "uv").chmod(0o755)
    return locking(home, PATH=f"{spy}{os.pathsep}{os.environ['PATH']}"), log


def generate(engine: str, template: Path, dst: Path, env: dict[str, str]) -> tuple[Path, str]:
    """Make a project from OLD on the command line, as a user does; return it and the output."""
    data = [f"{key}={value}" for key, value in LOCK_ANSWERS.items()]
    if engine == "copier":
        command: list[str | Path] = [BIN / "copier", "copy", "--trust", "--defaults"]
        command += [f"--vcs-ref={OLD}", *(f"--data={pair}" for pair in data), template]
        command.append(dst / "panager")
    else:
        # cookiecutter renders a local template as it is checked out: a work tree at OLD.
        checkout = dst.parent / f"template-at-{OLD}"
        git("worktree", "add", "-q", "--detach", str(checkout), OLD, cwd=template)
        command = [BIN / "cookiecutter", "--no-input", "-o", dst, checkout, *data]
    return dst / "panager", run(command, cwd=dst, env=env)


def locked_packages(project: Path) -> set[str]:
    return set(re.findall(r'^name = "([^"]+)"$', (project / "uv.lock").read_text("utf-8"), re.M))


@pytest.mark.slow
@pytest.mark.parametrize("scenario", BY_ENGINE[:2], ids=lambda scenario: scenario.name)
def test_the_lock_comes_with_the_project_and_follows_the_update(
    tmp_path: Path, released: History, scenario: Scenario
) -> None:
    env, log = spy_on_uv(tmp_path)
    (tmp_path / "made").mkdir()
    project, generated = generate(scenario.made_by, released.template, tmp_path / "made", env)
    # The lock is there before the first commit, and current.
    assert "uv.lock written (Resolved " in generated
    run([BIN / "uv", "lock", "--check"], cwd=project, env=env)
    assert NEW_DEPENDENCY not in locked_packages(project)
    start_repository(project)

    output = scenario.update(project, tmp_path, {}, env=env)

    assert NEW_DEPENDENCY in locked_packages(project)  # NEW added it
    assert last_line(output).startswith("uv.lock re-resolved (Resolved ")
    run([BIN / "uv", "lock", "--check"], cwd=project, env=env)
    # uv ran in the project only: never in the copies of the old and new version that copier
    # renders for the update, where a lock would have entered the update's diff.
    assert set(log.read_text("utf-8").split()) == {str(project.resolve())}
    assert "uv.lock" not in visible_conflicts(project)


def without_an_index(home: Path) -> dict[str, str]:
    """A user's environment whose package index is a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return locking(home, UV_DEFAULT_INDEX=f"http://127.0.0.1:{port}/simple", UV_NO_CACHE="1")


NO_INDEX = (
    r"uv\.lock not written: error: .*Connection refused.*; run `make lock`, then commit uv\.lock\."
)


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_without_an_index_generation_goes_on_and_says_to_run_make_lock(
    tmp_path: Path, released: History, engine: str
) -> None:
    (tmp_path / "made").mkdir()
    env = without_an_index(tmp_path)
    project, generated = generate(engine, released.template, tmp_path / "made", env)
    assert (project / "pyproject.toml").is_file()
    assert not (project / "uv.lock").exists()
    assert re.search(NO_INDEX, generated), generated


@pytest.mark.parametrize(
    ("path", "note"),
    [
        # No Python 3.14 to be found (uv's own installs hidden): a note, never a download.
        (
            f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "error: No interpreter found for Python 3.14",
        ),
        (f"/usr/bin{os.pathsep}/bin", "uv is not installed; install uv, run `make lock`"),
    ],
    ids=["no-python", "no-uv"],
)
def test_generation_without_python_or_uv_goes_on_with_a_note(
    tmp_path: Path, released: History, path: str, note: str
) -> None:
    installs = tmp_path / "no-pythons"
    installs.mkdir()
    env = locking(tmp_path, PATH=path, UV_PYTHON_INSTALL_DIR=str(installs))
    project = tmp_path / "panager"
    command: list[str | Path] = [BIN / "copier", "copy", "--trust", "--defaults"]
    command += ["--data=python_version=3.14", released.template, project]
    output = run(command, cwd=tmp_path, env=env)
    assert f"uv.lock not written: {note}" in output
    assert not (project / "uv.lock").exists()
    assert list(installs.iterdir()) == []


def test_without_an_index_the_update_ends_saying_to_run_make_lock(
    tmp_path: Path, released: History
) -> None:
    project = released.project("copier", tmp_path)
    output = COPIER_UPDATE.update(project, tmp_path, {}, env=without_an_index(tmp_path))
    assert re.fullmatch(NO_INDEX, last_line(output)), last_line(output)


def test_an_update_keeps_a_service_made_with_make_new_service(
    tmp_path: Path, released: History
) -> None:
    project = released.project("copier", tmp_path)
    env = tool_env(tmp_path, UV_OFFLINE="1")  # the lock is not what this test is about
    run(["make", "new-service", "NAME=billing"], cwd=project, env=env)
    commit_all(project, "a billing service")
    service = tree(project / "services/billing")
    assert "src/panager_billing/rounds.py" in service

    COPIER_UPDATE.update(project, tmp_path, {})
    assert tree(project / "services/billing") == service
    # (The user's README edit overlaps the release's: that conflict is another test's subject.)
    assert visible_conflicts(project) == {OVERLAP_FILE}
    # What the service added to the template's files is merged, not dropped.
    assert "\n  billing:\n" in (project / "docker-compose.yml").read_text("utf-8")
    assert "\n  billing:\n" in (project / "docker-compose.dev.yml").read_text("utf-8")
    pyproject = (project / "pyproject.toml").read_text("utf-8")
    assert '"panager-billing"' in pyproject
    assert '"services/billing/src"' in pyproject


def test_cruft_leaves_the_lock_to_make_lock(tmp_path: Path, released: History) -> None:
    """cruft renders the template again for every update: its bakes never lock (README)."""
    env = locking(tmp_path)
    output = run(
        [BIN / "cruft", "create", "--no-input", "--checkout", NEW, str(released.template)],
        cwd=tmp_path,
        env=env,
    )
    assert "uv.lock not written (cruft): run `make lock`, then commit uv.lock." in output
    assert not (tmp_path / "my-service" / "uv.lock").exists()


# --- answers copier cannot use: a hand edit, a gone version, a moved template -----------------


def update_fails(project: Path, home: Path) -> str:
    command: list[str | Path] = [BIN / "copier", "update", "--trust", "--defaults"]
    result = subprocess.run(
        command, cwd=project, env=tool_env(home), capture_output=True, text=True, check=False
    )
    assert result.returncode != 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def update_section() -> str:
    """The generated README's section on updates, as the tests' projects have it."""
    readme = (ROOT / TEMPLATE_DIR / "README.md").read_text("utf-8")
    return readme[readme.index("## Keeping up with the template") :]


@pytest.mark.parametrize("engine", ["copier", "cookiecutter"])
def test_a_hand_edited_answer_stops_the_update_and_names_the_fix(
    tmp_path: Path, released: History, engine: str
) -> None:
    project = released.project(engine, tmp_path)
    edit(project / ".copier-answers.yml", "license: MIT\n", "license: Apache-2.0\n")
    commit_all(project, "switch the licence by hand")
    head = git("rev-parse", "HEAD", cwd=project)

    output = update_fails(project, tmp_path)

    assert ".copier-answers.yml was edited by hand." in output
    assert "  license: recorded 'MIT', now 'Apache-2.0'" in output
    assert "copier update --trust --defaults --data license=Apache-2.0" in output
    # Nothing happened to the project.
    assert git("rev-parse", "HEAD", cwd=project) == head
    assert git("status", "--porcelain", cwd=project) == ""
    assert ".copier-answers.yml was edited by hand." in update_section()


@pytest.mark.parametrize(
    ("answer", "value", "message"),
    [
        ("_commit", "v0.0.1", "ValueError: Unknown revision: 'v0.0.1'"),
        ("_src_path", "/nowhere/template", "Updating is only supported in git-tracked templates."),
    ],
    ids=["gone-commit", "moved-source"],
)
def test_a_gone_version_or_a_moved_template_fails_with_the_documented_message(
    tmp_path: Path, released: History, answer: str, value: str, message: str
) -> None:
    project = released.project("copier", tmp_path)
    answers_file = project / ".copier-answers.yml"
    text = answers_file.read_text("utf-8")
    answers_file.write_text(re.sub(rf"^{answer}: .*$", f"{answer}: {value}", text, flags=re.M))
    commit_all(project, f"a {answer} that leads nowhere")

    assert last_line(update_fails(project, tmp_path)) == message
    assert f"`{message}`" in update_section()


def test_check_update_reports_the_new_version(tmp_path: Path, released: History) -> None:
    def check_update(project: Path) -> dict[str, Any]:
        output = run(
            [BIN / "copier", "check-update", "--output-format", "json"],
            cwd=project,
            env=tool_env(tmp_path),
        )
        report: dict[str, Any] = json.loads(output.splitlines()[1])
        return report

    assert check_update(released.project("copier", tmp_path)) == {
        "update_available": True,
        "current_version": OLD.removeprefix("v"),
        "latest_version": NEW.removeprefix("v"),
    }
    at_new = start_repository(make_project("copier", released.template, tmp_path, ANSWERS))
    assert check_update(at_new)["update_available"] is False


def test_copier_versions_that_hide_a_conflict_are_refused() -> None:
    """copier before 9.15.2 could leave a conflict only in a git-ignored .rej (its changelog)."""
    copier_yml = yaml.safe_load((ROOT / "copier.yml").read_text("utf-8"))
    assert Version(copier_yml["_min_copier_version"]) >= Version("9.15.2")


# --- a renamed question -----------------------------------------------------------------------

RENAMED_FROM, RENAMED_TO = "team_email", "author_email"  # as in copier.yml's example
TEAM_EMAIL = "ops@panager.example"


def migrations_example() -> str:
    """The commented `_migrations` example in copier.yml, as a list entry."""
    text = (ROOT / "copier.yml").read_text("utf-8")
    block = text[text.index("#   - version: v1.2.0\n") :]
    block = block[: block.index("\n#\n")]
    return "\n".join(line.removeprefix("# ") for line in block.splitlines()) + "\n"


def rename_everywhere(template: Path, old: str, new: str) -> None:
    """Rename a question in both engines' files, the hooks and every template file."""
    pattern = re.compile(rf"\b{old}\b")
    sources = [template / "copier.yml", template / "cookiecutter.json"]
    sources += [*(template / "hooks").glob("*.py"), *(template / TEMPLATE_DIR).rglob("*")]
    for path in sources:
        if path.is_file():
            text = path.read_text("utf-8")
            if pattern.search(text):
                path.write_text(pattern.sub(new, text), "utf-8")


def release_renamed_question(template: Path) -> None:
    """NEW asks `author_email` again and carries the answer over with the example migration."""
    edit(template / "copier.yml", "\n_migrations:\n", "\n_migrations:\n" + migrations_example())
    commit_all(template, f"rename {RENAMED_FROM} to {RENAMED_TO}")
    git("tag", NEW, cwd=template)


@pytest.fixture(scope="module")
def renamed_question(tmp_path_factory: pytest.TempPathFactory) -> History:
    """OLD asks `team_email`; NEW asks `author_email` and carries the answer over."""
    return make_history(
        tmp_path_factory.mktemp("renamed-question"),
        {**ANSWERS, RENAMED_FROM: TEAM_EMAIL},
        edit_old=lambda template: rename_everywhere(template, RENAMED_TO, RENAMED_FROM),
        release=release_renamed_question,
    )


@pytest.mark.parametrize("scenario", BY_ENGINE, ids=lambda scenario: scenario.name)
def test_a_renamed_question_keeps_its_answer(
    tmp_path: Path, renamed_question: History, scenario: Scenario
) -> None:
    project = renamed_question.project(scenario.made_by, tmp_path)
    assert answers_of(project)[RENAMED_FROM] == TEAM_EMAIL
    assert f'email = "{TEAM_EMAIL}"' in (project / "pyproject.toml").read_text("utf-8")

    # copier runs the migration; cruft has none, so its user gives the answer again.
    again = {RENAMED_TO: TEAM_EMAIL} if scenario.updated_by == "cruft" else {}
    scenario.update(project, tmp_path, again)

    answers = answers_of(project)
    assert RENAMED_FROM not in answers
    assert answers[RENAMED_TO] == TEAM_EMAIL
    assert f'email = "{TEAM_EMAIL}"' in (project / "pyproject.toml").read_text("utf-8")
    assert answers["_commit"] != OLD
    assert visible_conflicts(project) == set()


def test_changelog_releases_are_pep440_tags_newest_first() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text("utf-8"), re.MULTILINE)
    assert headings[0] == "Unreleased"
    releases = [re.fullmatch(r"(v\d+\.\d+\.\d+) - (\d{4}-\d{2}-\d{2})", h) for h in headings[1:]]
    assert releases, headings
    assert all(releases), headings
    tags = [match.group(1) for match in releases if match]
    assert [str(Version(tag)) for tag in tags] == [tag.removeprefix("v") for tag in tags]
    assert sorted(tags, key=Version, reverse=True) == tags
    dates = [match.group(2) for match in releases if match]
    assert sorted(dates, reverse=True) == dates
