"""cookiecutter.json and copier.yml ask the same questions with the same defaults."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from engines import ROOT, load_hook
from variants import COOKIECUTTER_JSON

COPIER: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text("utf-8"))
COPIER_QUESTIONS = {k: v for k, v in COPIER.items() if not k.startswith("_")}
CC_QUESTIONS = {k: v for k, v in COOKIECUTTER_JSON.items() if not k.startswith("_")}
PROMPTS: dict[str, str] = COOKIECUTTER_JSON["__prompts__"]
RULES_MODULE = load_hook("pre_gen_project")
RULES = RULES_MODULE.RULES


def test_same_questions_in_the_same_order() -> None:
    assert list(COPIER_QUESTIONS) == list(CC_QUESTIONS)


@pytest.mark.parametrize("question", list(CC_QUESTIONS))
def test_same_default_choices_and_help(question: str) -> None:
    cc_value = CC_QUESTIONS[question]
    copier_question = COPIER_QUESTIONS[question]
    if isinstance(cc_value, list):
        assert copier_question["choices"] == cc_value
        assert copier_question["default"] == cc_value[0]
    elif isinstance(cc_value, bool):
        assert copier_question["type"] == "bool"
        assert copier_question["default"] is cc_value
    else:
        # Derived defaults: the same Jinja expression, without the namespace.
        assert copier_question["default"] == cc_value.replace("cookiecutter.", "")
    assert copier_question["help"] == PROMPTS[question]


@pytest.mark.parametrize("question", list(CC_QUESTIONS))
def test_every_question_is_validated_by_the_shared_rules(question: str) -> None:
    assert question in RULES
    validator = COPIER_QUESTIONS[question].get("validator")
    if (
        COPIER_QUESTIONS[question].get("type") != "bool"
        and "choices" not in COPIER_QUESTIONS[question]
    ):
        assert validator == f"{{{{ {question} | answer_error('{question}') }}}}"


def test_every_rule_is_a_question() -> None:
    assert set(RULES) == set(CC_QUESTIONS)


def test_copier_renders_the_cookiecutter_tree() -> None:
    assert COPIER["_subdirectory"] == "{% raw %}{{cookiecutter.project_slug}}{% endraw %}"
    assert COPIER["_templates_suffix"] == ""
    assert (ROOT / "{{cookiecutter.project_slug}}").is_dir()


def test_slug_placeholder_is_the_one_the_rules_know() -> None:
    assert f"'{RULES_MODULE.SLUG_PLACEHOLDER}'" in CC_QUESTIONS["project_slug"]
