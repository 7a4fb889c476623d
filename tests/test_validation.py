"""Bad answers are refused by both engines, clearly, and leave nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engines import render_copier

# (answers, field the message must name, words it must contain)
BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"project_name": ""}, "project_name", "is empty"),
    ({"project_name": "   "}, "project_name", "is empty"),
    ({"project_name": 'Say "hi"'}, "project_name", "quote"),
    ({"project_name": "Line\nbreak"}, "project_name", "control character"),
    ({"project_name": "{{ evil }}"}, "project_name", "template braces"),
    ({"project_name": "🚀🚀"}, "project_name", "no letters or digits"),
    # Gothic letters: alphanumeric, but nothing in ASCII to derive a slug from.
    ({"project_name": "𐌰𐌱"}, "project_slug", "Give project_slug explicitly"),
    ({"project_slug": "GIVE-A-PROJECT-SLUG"}, "project_slug", "Give project_slug explicitly"),
    ({"project_slug": "My Service"}, "project_slug", "lowercase ASCII letters"),
    ({"project_slug": "../escape"}, "project_slug", "'../x'"),
    ({"project_slug": "/tmp/absolute"}, "project_slug", "lowercase ASCII letters"),
    ({"project_slug": "trailing-"}, "project_slug", "single hyphens"),
    ({"project_slug": "9lives"}, "project_slug", "starting with a letter"),
    ({"package_name": "class"}, "package_name", "keyword"),
    ({"package_name": "match"}, "package_name", "keyword"),
    ({"package_name": "1service"}, "package_name", "no leading digit"),
    ({"package_name": "my-service"}, "package_name", "no hyphens"),
    ({"package_name": "café"}, "package_name", "ASCII"),
    ({"package_name": "../pkg"}, "package_name", "importable"),
    ({"author_email": "not-an-email"}, "author_email", "name@example.com"),
    ({"author_email": "a@b"}, "author_email", "name@example.com"),
    ({"author_name": ""}, "author_name", "is empty"),
    ({"description": "two\nlines"}, "description", "control character"),
    ({"github_owner": "-leading"}, "github_owner", "GitHub accepts"),
    ({"github_owner": "double--hyphen"}, "github_owner", "single hyphens"),
    ({"github_owner": "x" * 40}, "github_owner", "1 to 39"),
    ({"github_owner": "has space"}, "github_owner", "GitHub accepts"),
    ({"container_registry": "GHCR.io/Org"}, "container_registry", "lower case"),
    ({"container_registry": "ghcr.io"}, "container_registry", "HOST[:PORT]/NAMESPACE"),
    ({"python_version": "3.9"}, "python_version", "3.13"),
    ({"python_version": "3.15"}, "python_version", "3.11"),
    (
        {"use_embedding_model": True, "embedding_model_name": "just-a-name"},
        "embedding_model_name",
        "'org/name'",
    ),
    (
        {"use_embedding_model": True, "embedding_model_name": "../../etc/passwd"},
        "embedding_model_name",
        "'org/name'",
    ),
    ({"database": "mysql"}, "database", "postgres"),
    ({"license": "GPL"}, "license", "MIT"),
]
# cookiecutter renders extra-context values as templates before any hook runs,
# so it reports template syntax in an answer with its own message.
COOKIECUTTER_WORDS = {"{{ evil }}": "Unable to render variable"}
IDS = [f"{field}:{list(answers.values())[-1]!r}"[:60] for answers, field, _ in BAD_INPUTS]


def leftovers(directory: Path) -> list[Path]:
    return list(directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize(("answers", "field", "words"), BAD_INPUTS, ids=IDS)
def test_cookiecutter_refuses(
    cookies: Any,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    template_repo: Path,
    answers: dict[str, Any],
    field: str,
    words: str,
) -> None:
    result = cookies.bake(template=str(template_repo), extra_context=answers)
    _out, err = capfd.readouterr()
    assert result.exit_code != 0
    message = f"{err}\n{result.exception}"
    assert field in message
    assert COOKIECUTTER_WORDS.get(answers.get(field, ""), words) in message
    assert result.project_path is None
    # pytest-cookies gives each bake its own output folder under tmp_path/cookies.
    bake_dirs = list((tmp_path / "cookies").iterdir())
    assert [leftover for d in bake_dirs for leftover in leftovers(d)] == []


@pytest.mark.parametrize(("answers", "field", "words"), BAD_INPUTS, ids=IDS)
def test_copier_refuses(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any], field: str, words: str
) -> None:
    destination = tmp_path / "out" / "project"
    with pytest.raises(ValueError, match=field) as refused:
        render_copier(template_repo, answers, destination)
    assert words in str(refused.value)
    assert not destination.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["cookiecutter", "--no-input", "-o", "{out}", "{template}", "project_slug=../escape"],
        [
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--data",
            "project_slug=../escape",
            "{template}",
            "{out}/project",
        ],
    ],
    ids=["cookiecutter-cli", "copier-cli"],
)
def test_command_line_refusal(tmp_path: Path, template_repo: Path, command: list[str]) -> None:
    out = tmp_path / "out"
    argv = [part.format(out=out, template=template_repo) for part in command]
    tool = Path(sys.executable).parent / argv[0]
    result = subprocess.run(
        [str(tool), *argv[1:]], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    assert result.returncode != 0
    assert "project_slug '../escape' is not a usable repository name" in result.stderr
    assert leftovers(out) == []


@pytest.mark.parametrize("engine", ["cookiecutter", "copier"])
def test_a_slug_that_climbs_out_leaves_nothing_anywhere(
    tmp_path: Path, template_repo: Path, engine: str
) -> None:
    """cookiecutter creates `out/svc/../../x` before its hooks run, so `svc/` and `x` appear."""
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    slug = "svc/../../x"
    if engine == "cookiecutter":
        command = [
            "cookiecutter",
            "--no-input",
            "-o",
            str(out),
            str(template_repo),
            f"project_slug={slug}",
        ]
    else:
        command = [
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--data",
            f"project_slug={slug}",
            str(template_repo),
            str(out / "project"),
        ]
    tool = Path(sys.executable).parent / command[0]
    result = subprocess.run(
        [str(tool), *command[1:]], capture_output=True, text=True, cwd=out, check=False
    )
    assert result.returncode != 0
    assert f"project_slug {slug!r} is not a usable repository name" in result.stderr
    assert leftovers(tmp_path / "work") == [out]
    assert leftovers(out) == []
