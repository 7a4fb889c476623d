"""Answer validation shared by both engines.

cookiecutter runs this file as its pre-generation hook (after rendering the
JSON literal below); copier imports it through ``helpers/extensions.py`` and
calls :func:`field_error` from each question's ``validator``. Unrendered, the
file is still valid Python, which is what lets one rule set serve both.
"""

from __future__ import annotations

import contextlib
import json
import keyword
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# Rendered by cookiecutter only; copier never executes main().
COOKIECUTTER_CONTEXT = r"""{{ cookiecutter | jsonify }}"""
# The rest is not a template: {% raw %}

PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
CHOICES: dict[str, tuple[str, ...]] = {
    "python_version": PYTHON_VERSIONS,
    "database": ("postgres", "none"),
    "deploy": ("ssh-compose", "kubernetes", "none"),
    "notifications": ("none", "slack", "telegram"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}
BOOLEANS = ("with_worker", "use_embedding_model", "use_redis")
# The derived slug when project_name gives none (see cookiecutter.json): a
# non-empty, invalid value, so cookiecutter still has a directory to clean up.
SLUG_PLACEHOLDER = "GIVE-A-PROJECT-SLUG"

_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_PACKAGE = re.compile(r"[a-z][a-z0-9_]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REGISTRY = re.compile(
    r"[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_MODEL_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?"
_MODEL = re.compile(rf"{_MODEL_PART}/{_MODEL_PART}")
# Characters that would break the TOML, YAML and Makefile strings these
# free-text answers are written into, or smuggle in template syntax.
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f\"\\`$]|\{\{|\{%|\{#")


def _text(field: str, value: str, what: str, *, required: bool = True) -> str | None:
    if required and not value.strip():
        return f"{field} is empty: give {what}."
    if _UNSAFE_TEXT.search(value):
        return (
            f"{field} {value!r} contains a control character, a quote, a backslash, "
            "a backtick, '$' or template braces; use plain text."
        )
    if len(value) > 200:
        return f"{field} is {len(value)} characters long; at most 200 are allowed."
    return None


def _project_name(value: str) -> str | None:
    problem = _text("project_name", value, "a human-readable name such as 'My Service'")
    if problem:
        return problem
    if not any(ch.isalnum() for ch in value):
        return f"project_name {value!r} has no letters or digits; give a name such as 'My Service'."
    return None


def _project_slug(value: str) -> str | None:
    if value in ("", SLUG_PLACEHOLDER):
        return (
            "project_slug could not be derived: project_name has no letters or digits "
            "that spell in ASCII. Give project_slug explicitly, for example "
            "project_slug=my-service."
        )
    if len(value) > 100 or not _SLUG.fullmatch(value):
        return (
            f"project_slug {value!r} is not a usable repository name: use 1 to 100 "
            "lowercase ASCII letters, digits and single hyphens, starting with a letter "
            "(for example 'my-service'). It becomes the output directory, so paths such "
            "as '../x' or '/x' are refused."
        )
    return None


def _package_name(value: str) -> str | None:
    if not _PACKAGE.fullmatch(value) or not value.isidentifier():
        return (
            f"package_name {value!r} is not an importable Python name: use lowercase "
            "ASCII letters, digits and underscores, starting with a letter "
            "(for example 'my_service'; no hyphens, no leading digit)."
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"package_name {value!r} is a Python keyword; choose another name."
    return None


def _author_email(value: str) -> str | None:
    if not _EMAIL.fullmatch(value):
        return f"author_email {value!r} is not an email address: use the form name@example.com."
    return None


def _github_owner(value: str) -> str | None:
    if not _OWNER.fullmatch(value):
        return (
            f"github_owner {value!r} is not a name GitHub accepts: use 1 to 39 ASCII "
            "letters, digits and single hyphens, not starting or ending with a hyphen."
        )
    return None


def _container_registry(value: str) -> str | None:
    if not _REGISTRY.fullmatch(value) or "/" not in value:
        return (
            f"container_registry {value!r} is not a lowercase registry path: use "
            "HOST[:PORT]/NAMESPACE, for example 'ghcr.io/my-org' (image names must be "
            "lower case)."
        )
    return None


def _embedding_model_name(value: str) -> str | None:
    if len(value) > 96 or not _MODEL.fullmatch(value) or ".." in value:
        return (
            f"embedding_model_name {value!r} is not a Hugging Face model id: use "
            "'org/name' (letters, digits, '-', '_', '.'), for example "
            "'sentence-transformers/all-MiniLM-L6-v2'."
        )
    return None


def _choice(field: str) -> Callable[[Any], str | None]:
    allowed = CHOICES[field]

    def check(value: Any) -> str | None:
        if value not in allowed:
            return f"{field} {value!r} is not supported: choose one of {', '.join(allowed)}."
        return None

    return check


def _boolean(field: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, bool):
            return f"{field} {value!r} is not a boolean: use true or false."
        return None

    return check


RULES: dict[str, Callable[[Any], str | None]] = {
    "project_name": _project_name,
    "project_slug": _project_slug,
    "package_name": _package_name,
    "description": lambda v: _text("description", v, "a one-line description", required=False),
    "author_name": lambda v: _text("author_name", v, "an author or team name"),
    "author_email": _author_email,
    "github_owner": _github_owner,
    "container_registry": _container_registry,
    "embedding_model_name": _embedding_model_name,
    **{field: _choice(field) for field in CHOICES},
    **{field: _boolean(field) for field in BOOLEANS},
}


def field_error(field: str, value: Any) -> str:
    """Return the problem with one answer, or an empty string when it is fine."""
    if not isinstance(value, str) and field not in BOOLEANS:
        return f"{field} {value!r} must be text."
    return RULES[field](value) or ""


def answer_errors(answers: Mapping[str, Any]) -> list[str]:
    """Check every answer the template asks for; one message per bad field."""
    problems = []
    for field in RULES:
        problem = field_error(field, answers.get(field, ""))
        if problem:
            problems.append(problem)
    return problems


def made_on_the_way(output_dir: Path, slug: str) -> list[Path]:
    """Directories inside output_dir that creating ``output_dir / slug`` made, innermost first.

    cookiecutter creates the project directory before this hook runs, and removes only that
    directory when the hook fails: a slug such as ``svc/../../x`` leaves ``svc/`` behind.
    """
    made, current = [], output_dir
    for part in Path(slug).parts[:-1]:
        current = current / part
        normal = Path(os.path.normpath(current))
        if normal.is_relative_to(output_dir) and normal != output_dir:
            made.append(normal)
    return sorted(set(made), key=lambda path: len(path.parts), reverse=True)


def main() -> int:
    context = json.loads(COOKIECUTTER_CONTEXT)
    problems = answer_errors(context)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        output_dir = context.get("_output_dir")
        if output_dir and isinstance(context.get("project_slug"), str):
            for directory in made_on_the_way(Path(output_dir), context["project_slug"]):
                with contextlib.suppress(OSError):  # not empty: it held something already
                    directory.rmdir()
        print("Nothing was generated.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
# {% endraw %}
