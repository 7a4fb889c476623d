"""A release follows the rules for files it deletes, renames or makes conditional.

Projects keep every file they changed through `copier update` only if the template says what
happened to each path it stops shipping (releases/path-changes.yml, read by the update's last
step). Each release commits the list of paths it ships (releases/vX.Y.Z.txt), so these checks
need neither tags nor history: a fresh clone of main is enough.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from engines import ROOT, template_files
from packaging.version import Version

TREE = "{{cookiecutter.project_slug}}"
RELEASES = ROOT / "releases"


def released_versions() -> list[str]:
    """The releases CHANGELOG.md lists, newest first."""
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    return re.findall(r"^## (v\d+\.\d+\.\d+) - ", text, re.MULTILINE)


def shipped(release: str) -> set[str]:
    return set((RELEASES / f"{release}.txt").read_text("utf-8").splitlines())


def path_changes() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((RELEASES / "path-changes.yml").read_text("utf-8")) or {}
    return {release: changes or {} for release, changes in data.items()}


def current_paths() -> set[str]:
    return {rel.removeprefix(f"{TREE}/") for rel in template_files() if rel.startswith(f"{TREE}/")}


def unaccounted(
    shipped: set[str], now: set[str], changes: dict[str, dict[str, Any]], since: str
) -> list[str]:
    """Paths the release `since` shipped that are gone now with no rule of a later release."""
    accounted: set[str] = set()
    for release, change in changes.items():
        if Version(release) > Version(since):
            accounted |= set(change.get("renamed") or {}) | set(change.get("deleted") or [])
    return sorted(shipped - now - accounted)


def test_the_last_release_has_its_manifest() -> None:
    last = released_versions()[0]
    assert (RELEASES / f"{last}.txt").is_file(), f"releases/{last}.txt: see CONTRIBUTING.md"


def test_every_path_the_last_release_shipped_is_here_or_has_a_rule() -> None:
    last = released_versions()[0]
    assert unaccounted(shipped(last), current_paths(), path_changes(), last) == []


def test_a_path_gone_without_a_rule_is_caught() -> None:
    """The check above, on a template that dropped a file and said nothing."""
    last = released_versions()[0]
    now = current_paths() - {".github/dependabot.yml"}
    assert unaccounted(shipped(last), now, path_changes(), last) == [".github/dependabot.yml"]
    ruled = {"v99.0.0": {"deleted": [".github/dependabot.yml"]}}
    assert unaccounted(shipped(last), now, ruled, last) == []


def test_rules_belong_to_releases_after_the_last_and_lead_somewhere() -> None:
    released = released_versions()
    changes = path_changes()
    for release, change in changes.items():
        assert release in released or Version(release) > Version(released[0]), release
        assert set(change) <= {"renamed", "deleted"}, release
        # A new name is in the template, or a later release renamed or deleted it in turn.
        later = [c for r, c in changes.items() if Version(r) > Version(release)]
        gone_later = {
            path for c in later for path in [*(c.get("renamed") or {}), *(c.get("deleted") or [])]
        }
        for new in (change.get("renamed") or {}).values():
            assert new in current_paths() | gone_later, (release, new)


@pytest.mark.parametrize(
    "entry",
    yaml.safe_load((ROOT / "copier.yml").read_text("utf-8"))["_migrations"],
    ids=lambda entry: " ".join(str(part) for part in entry["command"][2:]),
)
def test_versioned_migrations_belong_to_releases(entry: dict[str, Any]) -> None:
    if "version" in entry:
        released = released_versions()
        version = entry["version"]
        assert version in released or Version(version) > Version(released[0]), version
    assert entry["command"][1] == "{{ _copier_conf.src_path }}/helpers/migrations.py"
