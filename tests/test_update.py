"""Updates that keep the user's work: real histories of the template and of projects made from it.

The template is committed and tagged OLD; projects are made from it with copier, cookiecutter
and cruft, committed, then edited by their "users" (a generated file changed, a file of their
own, both committed). The template then releases NEW with three changes: a new file, an edit to
a file the users left alone, and an edit to the very line a user changed. Each project is
updated (`copier update` or `cruft update`, changing one answer on the way) and must show the
template's changes, every line the user wrote, and the overlap as a visible conflict: inline
markers, or a `.rej` file, which the generated pre-commit configuration refuses to commit.

A second history renames a question and carries the old answer over with the `_migrations`
example that copier.yml documents.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
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
)
from packaging.version import Version

BIN = Path(sys.executable).parent
TEMPLATE_DIR = "{{cookiecutter.project_slug}}"
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

# The users' edits.
USER_LINE = "A FastAPI service that keeps our team's notes."
USER_TARGET = "\n.PHONY: hello\nhello: ## Our own target\n\t@echo hello\n"
USER_FILE, USER_FILE_TEXT = "notes/decisions.md", "# Decisions\n\n1. We keep notes in PostgreSQL.\n"

CONFLICT_MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def tool_env(home: Path) -> dict[str, str]:
    """Environment for copier, cruft and pre-commit: the tests' git identity, a private cache."""
    return {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home / "pre-commit")}


def release_new_version(template: Path) -> None:
    """Commit the template's next version and tag it NEW."""
    source = template / TEMPLATE_DIR
    (source / NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (source / NEW_FILE).write_text(NEW_FILE_SOURCE, encoding="utf-8")
    with (source / UNTOUCHED_FILE).open("a", encoding="utf-8") as handle:
        handle.write(UNTOUCHED_ADDITION)
    readme = (source / OVERLAP_FILE).read_text(encoding="utf-8")
    assert "\n{{ cookiecutter.description }}\n" in readme
    readme = readme.replace("\n{{ cookiecutter.description }}\n", f"\n{TEMPLATE_LINE}\n", 1)
    (source / OVERLAP_FILE).write_text(readme, encoding="utf-8")
    commit_all(template, "runbook, ignore local databases, say who maintains the service")
    git("tag", NEW, cwd=template)


def edit_as_user(project: Path) -> None:
    """What a team does to its new repository, committed like they would."""
    readme = project / OVERLAP_FILE
    text = readme.read_text(encoding="utf-8")
    assert "\nA FastAPI service.\n" in text
    readme.write_text(text.replace("\nA FastAPI service.\n", f"\n{USER_LINE}\n", 1), "utf-8")
    with (project / "Makefile").open("a", encoding="utf-8") as handle:
        handle.write(USER_TARGET)
    (project / USER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project / USER_FILE).write_text(USER_FILE_TEXT, encoding="utf-8")
    commit_all(project, "our changes")


# --- how each engine makes a project and updates it -------------------------------------------


def make_project(engine: str, template: Path, dst: Path, answers: dict[str, Any]) -> Path:
    """Make a project from the template's newest commit with one engine, into dst."""
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

    @property
    def conflict_file(self) -> str:
        """Where the overlapping edit shows: the file itself, or its .rej."""
        return f"{OVERLAP_FILE}.rej" if self.conflict == "rej" else OVERLAP_FILE

    def update(self, project: Path, home: Path, data: dict[str, str]) -> str:
        """Update the project to the template's latest version, changing answers by `data`."""
        if self.updated_by == "cruft":
            command: list[str | Path] = [BIN / "cruft", "update", "--skip-apply-ask"]
            command += ["--checkout", NEW, "--variables-to-update", json.dumps(data)]
        else:
            command = [BIN / "copier", "update", "--trust", "--defaults"]
            command += [f"--conflict={self.conflict}"]
            command += [f"--data={key}={value}" for key, value in data.items()]
        return run(command, cwd=project, env=tool_env(home))


SCENARIOS = [
    Scenario("copier", "copier"),
    Scenario("copier", "copier", conflict="rej"),
    Scenario("cookiecutter", "copier"),
    Scenario("cruft", "cruft"),
    Scenario("cruft", "copier"),
]


@dataclass(frozen=True)
class History:
    template: Path
    project: Path  # made at OLD, edited and committed; the template has released NEW since


def make_history(tmp_path: Path, engine: str) -> History:
    """The template at OLD, a project made from it and edited by its user, then NEW released."""
    template = snapshot_template(tmp_path / "template", tag=OLD)
    (tmp_path / "project").mkdir()
    project = start_repository(make_project(engine, template, tmp_path / "project", ANSWERS))
    edit_as_user(project)
    release_new_version(template)
    return History(template, project)


# --- what an update must leave ----------------------------------------------------------------


def user_added_lines(project: Path) -> dict[str, list[str]]:
    """The lines the user's commit added, by file."""
    diff = git("show", "--format=", "--unified=0", "HEAD", cwd=project)
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


def refused_by_pre_commit(project: Path, home: Path, candidates: set[str]) -> set[str]:
    """The files the project's own pre-commit hooks refuse for holding an unmerged update.

    Hooks from GitHub cannot be installed here: check-merge-conflict runs from the
    pre-commit-hooks package at the rev the config pins, with the config's arguments; the
    config's local hooks run through pre-commit itself.
    """
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = {hook["id"]: (repo, hook) for repo in config["repos"] for hook in repo["hooks"]}
    repo, merge_conflict = hooks["check-merge-conflict"]
    assert repo["rev"] == f"v{metadata.version('pre-commit-hooks')}"
    refused = set()

    checked = subprocess.run(
        [BIN / "check-merge-conflict", *merge_conflict.get("args", []), *sorted(candidates)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    refused |= {rel for rel in candidates if f"{rel}:" in checked.stdout}

    local_config = home / "local-hooks.yaml"
    local = [repo for repo in config["repos"] if repo["repo"] == "local"]
    local_config.write_text(yaml.safe_dump({"repos": local}), encoding="utf-8")
    hooked = subprocess.run(
        [BIN / "pre-commit", "run", "--config", local_config, "--files", *sorted(candidates)],
        cwd=project,
        env=tool_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    refused |= {rel for rel in candidates if hooked.returncode and rel in hooked.stdout}
    return refused


def template_commit(history: History, ref: str) -> str:
    return git("rev-parse", f"{ref}^{{commit}}", cwd=history.template).strip()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_update_brings_the_release_and_keeps_the_users_work(
    tmp_path: Path, scenario: Scenario
) -> None:
    history = make_history(tmp_path, scenario.made_by)
    project = history.project
    user_lines = user_added_lines(project)
    user_file_before = (project / USER_FILE).read_bytes()

    key, value = CHANGED_ANSWER
    scenario.update(project, tmp_path, {key: value})

    # The release arrived: a new file (rendered), an edit to a file the user left alone.
    assert (project / NEW_FILE).read_text("utf-8").startswith("# Panager runbook\n")
    assert (project / UNTOUCHED_FILE).read_text("utf-8").endswith(UNTOUCHED_ADDITION)
    # The changed answer was applied on the way.
    assert answers_of(project)[key] == value
    assert (project / "LICENSE").read_text("utf-8").lstrip().startswith("Apache License")
    assert f'license = "{value}"' in (project / "pyproject.toml").read_text("utf-8")
    # The overlapping edit, and only it, is a visible conflict.
    conflicts = visible_conflicts(project)
    assert conflicts == {scenario.conflict_file}
    # The user's own file is untouched, and every line the user wrote is still there: in its
    # file, or (rej mode, where the template's version wins the file) in the file's .rej.
    assert (project / USER_FILE).read_bytes() == user_file_before
    for rel, lines in user_lines.items():
        text = shown_for(project, rel)
        assert [line for line in lines if line not in text] == [], rel
    # Both sides of the overlap are there to merge by hand, and pre-commit refuses the commit.
    assert TEMPLATE_LINE_RENDERED in shown_for(project, OVERLAP_FILE)
    assert refused_by_pre_commit(project, tmp_path, conflicts) == conflicts
    # The project records the version it now has.
    recorded = answers_of(project)["_commit"]
    if scenario.updated_by == "cruft":
        assert recorded == template_commit(history, NEW)
        cruft_state = json.loads((project / ".cruft.json").read_text("utf-8"))
        assert cruft_state["commit"] == recorded
        assert cruft_state["context"]["cookiecutter"][key] == value
    else:
        assert recorded == NEW


def check_update(project: Path, home: Path) -> dict[str, Any]:
    output = run(
        [BIN / "copier", "check-update", "--output-format", "json"],
        cwd=project,
        env=tool_env(home),
    )
    report: dict[str, Any] = json.loads(output.splitlines()[1])
    return report


def test_check_update_reports_the_new_version(tmp_path: Path) -> None:
    history = make_history(tmp_path, "copier")
    assert check_update(history.project, tmp_path) == {
        "update_available": True,
        "current_version": OLD.removeprefix("v"),
        "latest_version": NEW.removeprefix("v"),
    }
    at_new = start_repository(make_project("copier", history.template, tmp_path, ANSWERS))
    assert check_update(at_new, tmp_path)["update_available"] is False


# --- a renamed question -----------------------------------------------------------------------

RENAMED_FROM, RENAMED_TO = "team_email", "author_email"  # as in copier.yml's example
TEAM_EMAIL = "ops@panager.example"


def migrations_example() -> str:
    """The commented `_migrations` example in copier.yml, uncommented."""
    text = (ROOT / "copier.yml").read_text("utf-8")
    block = text[text.index("# _migrations:\n") : text.index("\n_migrations: []\n")]
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


def make_renamed_history(tmp_path: Path, engine: str) -> History:
    """OLD asks `team_email`; NEW asks `author_email` and carries the answer over."""
    template = tmp_path / "template"
    snapshot_template(template, tag="current")
    rename_everywhere(template, RENAMED_TO, RENAMED_FROM)
    commit_all(template, f"ask {RENAMED_FROM}")
    git("tag", OLD, cwd=template)

    (tmp_path / "project").mkdir()
    answers = {**ANSWERS, RENAMED_FROM: TEAM_EMAIL}
    project = start_repository(make_project(engine, template, tmp_path / "project", answers))

    git("checkout", "-q", "current", "--", ".", cwd=template)
    copier_yml = template / "copier.yml"
    text = copier_yml.read_text("utf-8").replace("\n_migrations: []\n", "\n" + migrations_example())
    copier_yml.write_text(text, "utf-8")
    commit_all(template, f"rename {RENAMED_FROM} to {RENAMED_TO}")
    git("tag", NEW, cwd=template)
    return History(template, project)


@pytest.mark.parametrize(
    "scenario",
    [Scenario("copier", "copier"), Scenario("cookiecutter", "copier"), Scenario("cruft", "cruft")],
    ids=lambda scenario: scenario.name,
)
def test_a_renamed_question_keeps_its_answer(tmp_path: Path, scenario: Scenario) -> None:
    history = make_renamed_history(tmp_path, scenario.made_by)
    project = history.project
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
