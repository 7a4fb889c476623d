"""Jinja extensions that let copier render the cookiecutter tree as it is.

Every template file is written once with ``{{ cookiecutter.x }}``. For copier,
:class:`CookiecutterNamespace` provides that namespace: answers come from
copier's context, and the private ``__x`` values are rendered from the very
templates in ``cookiecutter.json``, so their definitions live in one place.
:class:`TemplateFilters` adds cookiecutter's ``slugify`` filter (the same
python-slugify function) and ``answer_error``, which runs the shared rules of
``hooks/pre_gen_project.py`` from copier's question validators.
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
def _rules() -> ModuleType:
    path = TEMPLATE_ROOT / "hooks" / "pre_gen_project.py"
    spec = importlib.util.spec_from_file_location("service_template_rules", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the validation rules from {path}")
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
    message: str = _rules().field_error(field, value)
    return message


class TemplateFilters(Extension):
    """Filters that both engines offer under the same names."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["answer_error"] = answer_error


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
