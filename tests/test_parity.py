"""Both engines (and cruft) produce the same project for the same answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cruft import create as cruft_create
from engines import ANSWERS_FILE, answers_of, directories, render_cookiecutter, render_copier, tree
from variants import full_product, pairwise, variant_id


def assert_same_project(cookiecutter_project: Path, copier_project: Path) -> None:
    """Byte-identical files and the same directories, answers files aside."""
    cc_tree, copier_tree = tree(cookiecutter_project), tree(copier_project)
    assert sorted(cc_tree) == sorted(copier_tree)
    differing = [rel for rel in cc_tree if cc_tree[rel] != copier_tree[rel]]
    assert differing == []
    assert directories(cookiecutter_project) == directories(copier_project)


def check_parity(tmp_path: Path, template: Path, answers: dict[str, Any]) -> None:
    cc = render_cookiecutter(template, answers, tmp_path / "cookiecutter")
    cp = render_copier(template, answers, tmp_path / "copier" / cc.name)
    assert_same_project(cc, cp)
    # The answers file cookiecutter writes is the one copier writes, byte for byte.
    assert (cc / ANSWERS_FILE).read_text("utf-8") == (cp / ANSWERS_FILE).read_text("utf-8")


@pytest.mark.parametrize("answers", [{}, *pairwise()], ids=variant_id)
def test_engines_render_identical_trees(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any]
) -> None:
    check_parity(tmp_path, template_repo, answers)


def test_identical_with_custom_names(tmp_path: Path, template_repo: Path) -> None:
    check_parity(
        tmp_path,
        template_repo,
        {"project_name": "패니저", "github_owner": "PlugAgent", "with_worker": True},
    )


def test_cookiecutter_answers_let_copier_take_over(tmp_path: Path, template_repo: Path) -> None:
    project = render_cookiecutter(template_repo, {"database": "none"}, tmp_path)
    answers = answers_of(project)
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == "v0.1.0"
    assert answers["database"] == "none"
    # Every question is asked and recorded, whatever the other answers are.
    assert answers["embedding_model_name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert answers["use_redis"] is False


@pytest.mark.full_matrix
@pytest.mark.parametrize("answers", full_product(), ids=variant_id)
def test_full_matrix_parity(tmp_path: Path, template_repo: Path, answers: dict[str, Any]) -> None:
    check_parity(tmp_path, template_repo, answers)


def test_cruft_create(tmp_path: Path, template_repo: Path) -> None:
    answers = {"with_worker": True, "license": "BSD-3-Clause"}
    cruft_project = Path(
        cruft_create(
            str(template_repo),
            output_dir=tmp_path / "cruft",
            no_input=True,
            extra_context=answers,
        )
    )
    assert (cruft_project / ".cruft.json").is_file()
    cc = render_cookiecutter(template_repo, answers, tmp_path / "cookiecutter")
    cruft_tree = tree(cruft_project)
    cruft_tree.pop(".cruft.json")
    assert cruft_tree == tree(cc)
    answers_file = answers_of(cruft_project)
    head = (template_repo / ".git" / "refs" / "tags" / "v0.1.0").read_text().strip()
    assert answers_file["_commit"] == head  # cruft records the commit hash
    assert answers_file["with_worker"] is True


def test_relative_template_path_is_recorded_absolute(tmp_path: Path, template_repo: Path) -> None:
    """`cookiecutter .` from a shell: copier must later find the template from the project."""
    cookiecutter_cli = Path(sys.executable).parent / "cookiecutter"
    script = f'cd "{template_repo}" && "{cookiecutter_cli}" . --no-input -o "{tmp_path}"'
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)
    answers = answers_of(tmp_path / "my-service")
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == "v0.1.0"
