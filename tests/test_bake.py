"""Bake tier: every option value renders, and each one changes the output."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from engines import ANSWERS_FILE, render_cookiecutter
from variants import DEFAULTS, OPTIONS, every_value, pairwise, variant_id

# `${{ ... }}` is GitHub Actions syntax and meant to stay; anything else is a leftover.
UNRENDERED = re.compile(r"(?<!\$)\{\{|\{%|\{#")

EXPECTED_FILES = [
    "README.md",
    "AGENTS.md",
    "LICENSE",
    "Makefile",
    "pyproject.toml",
    ".python-version",
    ".env.example",
    ".gitignore",
    ".editorconfig",
    ANSWERS_FILE,
    "services/api/pyproject.toml",
    "services/api/src/my_service_api/__init__.py",
    "services/api/src/my_service_api/main.py",
    "services/api/src/my_service_api/settings.py",
    "services/api/src/my_service_api/py.typed",
]


def text_files(project: Path) -> dict[str, str]:
    """Every file of a baked project, decoded."""
    return {
        p.relative_to(project).as_posix(): p.read_text("utf-8")
        for p in sorted(project.rglob("*"))
        if p.is_file()
    }


def assert_well_formed(project: Path) -> None:
    """No template syntax left; every structured file parses."""
    for rel, text in text_files(project).items():
        assert not UNRENDERED.search(text), f"unrendered template syntax in {rel}"
        if rel.endswith(".toml"):
            tomllib.loads(text)
        elif rel.endswith((".yml", ".yaml")):
            yaml.safe_load(text)
        elif rel.endswith(".json"):
            json.loads(text)


def read(project: Path, rel: str) -> str:
    return (project / rel).read_text("utf-8")


def licenses(project: Path) -> set[str]:
    """The SPDX licence expression of every pyproject.toml in the project."""
    return {
        tomllib.loads(path.read_text("utf-8"))["project"]["license"]
        for path in project.rglob("pyproject.toml")
    }


def api_dependencies(project: Path) -> str:
    data = tomllib.loads((project / "services/api/pyproject.toml").read_text("utf-8"))
    return " ".join(data["project"]["dependencies"])


def test_default_bake(cookies: Any, template_repo: Path) -> None:
    result = cookies.bake(template=str(template_repo))
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "my-service"
    for rel in EXPECTED_FILES:
        assert (project / rel).is_file(), rel
    assert not (project / "services/worker").exists()
    assert_well_formed(project)
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text("utf-8"))
    assert answers["project_slug"] == "my-service"
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == "v0.1.0"


def test_names_reach_the_output(cookies: Any, template_repo: Path) -> None:
    answers = {
        "project_name": "Panager Search",
        "project_slug": "panager",
        "package_name": "pan",
        "description": "Finds things fast.",
        "author_name": "Plug Agent",
        "author_email": "dev@plugagent.example",
        "github_owner": "PlugAgent",
    }
    result = cookies.bake(template=str(template_repo), extra_context=answers)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert project.name == "panager"
    assert (project / "services/api/src/pan_api/main.py").is_file()
    root = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    assert root["project"]["name"] == "panager"
    assert root["project"]["description"] == "Finds things fast."
    api = tomllib.loads((project / "services/api/pyproject.toml").read_text("utf-8"))
    assert api["project"]["name"] == "panager-api"
    assert {"name": "Plug Agent", "email": "dev@plugagent.example"} in api["project"]["authors"]
    readme = (project / "README.md").read_text("utf-8")
    assert readme.startswith("# Panager Search\n")
    # Image owners are lower-cased: registries refuse upper case.
    assert "ghcr.io/plugagent/panager-api" in readme
    assert "github.com/PlugAgent/panager" in readme


def test_non_ascii_project_name_derives_a_usable_slug(cookies: Any, template_repo: Path) -> None:
    result = cookies.bake(template=str(template_repo), extra_context={"project_name": "패니저"})
    assert result.exit_code == 0, result.exception
    assert Path(result.project_path).name == "paenijeo"
    assert (Path(result.project_path) / "services/api/src/paenijeo_api").is_dir()
    assert (Path(result.project_path) / "README.md").read_text("utf-8").startswith("# 패니저\n")


# How each option value shows in the output. A new option value without an
# entry here fails test_every_option_value_has_a_visible_effect.
EFFECTS: dict[tuple[str, Any], Callable[[Path, dict[str, Any]], bool]] = {
    ("python_version", "3.11"): lambda p, v: read(p, ".python-version") == "3.11\n",
    ("python_version", "3.12"): lambda p, v: read(p, ".python-version") == "3.12\n",
    ("python_version", "3.13"): lambda p, v: read(p, ".python-version") == "3.13\n",
    ("python_version", "3.14"): lambda p, v: read(p, ".python-version") == "3.14\n",
    ("with_worker", True): lambda p, v: (
        (p / "services/worker/pyproject.toml").is_file() and "redis" in api_dependencies(p)
    ),
    ("with_worker", False): lambda p, v: not (p / "services/worker").exists(),
    ("use_embedding_model", True): lambda p, v: (
        "sentence-transformers" in api_dependencies(p)
        and (p / "services/api/src/my_service_api/embedding.py").is_file()
    ),
    ("use_embedding_model", False): lambda p, v: "sentence-transformers" not in api_dependencies(p),
    ("database", "postgres"): lambda p, v: (
        "asyncpg" in api_dependencies(p) and "DATABASE_URL" in read(p, ".env.example")
    ),
    ("database", "none"): lambda p, v: (
        "asyncpg" not in api_dependencies(p) and "DATABASE_URL" not in read(p, ".env.example")
    ),
    ("use_redis", True): lambda p, v: (
        "redis" in api_dependencies(p) and "REDIS_URL" in read(p, ".env.example")
    ),
    # The worker needs Redis, so it switches Redis on whatever use_redis says.
    ("use_redis", False): lambda p, v: v["with_worker"] or "redis" not in api_dependencies(p),
    ("deploy", "ssh-compose"): lambda p, v: (
        "DEPLOY_SSH_KEY" in read(p, "README.md") and not (p / "deploy/kubernetes").exists()
    ),
    ("deploy", "kubernetes"): lambda p, v: (
        (p / "deploy/kubernetes/base/kustomization.yaml").is_file()
        and "KUBECONFIG" in read(p, "README.md")
        and not (p / "deploy/deploy.sh").exists()
    ),
    ("deploy", "none"): lambda p, v: (
        "DEPLOY_SSH_KEY" not in read(p, "README.md") and not (p / "deploy").exists()
    ),
    ("notifications", "none"): lambda p, v: (
        "SLACK_WEBHOOK_URL" not in read(p, "README.md")
        and "TELEGRAM_BOT_TOKEN" not in read(p, "README.md")
    ),
    ("notifications", "slack"): lambda p, v: "SLACK_WEBHOOK_URL" in read(p, "README.md"),
    ("notifications", "telegram"): lambda p, v: "TELEGRAM_BOT_TOKEN" in read(p, "README.md"),
    ("license", "MIT"): lambda p, v: (
        read(p, "LICENSE").startswith("MIT License") and licenses(p) == {"MIT"}
    ),
    ("license", "Apache-2.0"): lambda p, v: (
        "Apache License" in read(p, "LICENSE")[:200] and licenses(p) == {"Apache-2.0"}
    ),
    ("license", "BSD-3-Clause"): lambda p, v: (
        read(p, "LICENSE").startswith("BSD 3-Clause") and licenses(p) == {"BSD-3-Clause"}
    ),
    ("license", "Proprietary"): lambda p, v: (
        "All rights reserved" in read(p, "LICENSE") and licenses(p) == {"LicenseRef-Proprietary"}
    ),
}


def test_every_option_value_has_a_visible_effect() -> None:
    assert {(k, v) for k, values in OPTIONS.items() for v in values} == set(EFFECTS)


@pytest.mark.parametrize(
    "answers", [{}, *every_value()], ids=lambda v: variant_id(v) if v else "defaults"
)
def test_every_option_value(cookies: Any, template_repo: Path, answers: dict[str, Any]) -> None:
    result = cookies.bake(template=str(template_repo), extra_context=answers)
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    assert_well_formed(project)
    variant = {**DEFAULTS, **answers}
    for option, value in variant.items():
        if (option, value) in EFFECTS:
            assert EFFECTS[option, value](project, variant), f"{option}={value!r} not visible"


@pytest.mark.parametrize("answers", pairwise(), ids=variant_id)
def test_pairwise_variant_bakes(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any]
) -> None:
    project = render_cookiecutter(template_repo, answers, tmp_path)
    assert_well_formed(project)
    variant = answers
    for option, value in answers.items():
        assert EFFECTS[option, value](project, variant), f"{option}={value!r} not visible"
