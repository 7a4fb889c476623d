"""Jinja extensions that let copier render the cookiecutter tree as it is.

Every template file is written once with ``{{ cookiecutter.x }}``. For copier,
:class:`CookiecutterNamespace` provides that namespace: answers come from
copier's context, and the private ``__x`` values are rendered from the very
templates in ``cookiecutter.json``, so their definitions live in one place.
:class:`TemplateFilters` adds cookiecutter's ``slugify`` filter (the same
python-slugify function), ``answer_error``, which runs the shared rules of
``hooks/pre_gen_project.py`` from copier's question validators, and
``answers_file``, which writes the answers file as ``hooks/post_gen_project.py`` does.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension
from slugify import slugify

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


@cache
def hook_module(name: str) -> ModuleType:
    """One of the hook modules (valid Python unrendered): the rules, the post-generation step."""
    path = TEMPLATE_ROOT / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"service_template_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _cookiecutter_json() -> dict[str, Any]:
    with (TEMPLATE_ROOT / "cookiecutter.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def answer_error(value: Any, field: str) -> str:
    """Copier validator filter: the shared rule's message, or ''."""
    message: str = hook_module("pre_gen_project").field_error(field, value)
    return message


def answers_file(answers: Mapping[str, Any]) -> str:
    """The answers file's text, as cookiecutter's post-generation hook writes it."""
    text: str = hook_module("post_gen_project").dump_answers(answers)
    return text


class TemplateFilters(Extension):
    """Filters that both engines offer under the same names."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["answer_error"] = answer_error
        environment.filters["answers_file"] = answers_file


# Private values whose cookiecutter definition only makes sense to cookiecutter.
_COPIER_PRIVATE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # copier writes its own answers file; cookiecutter skips the empty name.
    "__answers": lambda ctx: str(ctx["_copier_conf"]["answers_file"]),
    # copier skips empty directory names natively; cookiecutter cannot, so it
    # renders a marker that post_gen_project.py removes.
    "__prune": lambda ctx: "",
    "__year": lambda ctx: str(datetime.datetime.now(tz=datetime.UTC).year),
}


class CookiecutterContext(Mapping[str, Any]):
    """The ``cookiecutter`` namespace, computed from copier's context."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = context
        self._env = Environment(autoescape=False)  # noqa: S701 (renders names, not HTML)
        self._env.filters["slugify"] = slugify
        self._keys = [key for key in _cookiecutter_json() if key != "__prompts__"]

    def __getitem__(self, key: str) -> Any:
        if key in _COPIER_PRIVATE:
            return _COPIER_PRIVATE[key](self._context)
        if key.startswith("__") and key in self._keys:
            template = self._env.from_string(_cookiecutter_json()[key])
            return template.render(cookiecutter=self)
        return self._context[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class CookiecutterNamespace(ContextHook):
    """Expose ``cookiecutter.*`` to every template copier renders."""

    def hook(self, context: dict[str, Any]) -> None:
        context["cookiecutter"] = CookiecutterContext(context)
