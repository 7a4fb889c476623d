"""The answer sets the tests render: defaults, every value, all pairs, the full product.

Option values are read from cookiecutter.json, the single source of the
question list, so a new choice is covered without touching this file.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from allpairspy import AllPairs

ROOT = Path(__file__).resolve().parent.parent
COOKIECUTTER_JSON: dict[str, Any] = json.loads((ROOT / "cookiecutter.json").read_text("utf-8"))

# Options whose values switch parts of the output on and off.
OPTIONS: dict[str, list[Any]] = {
    key: (value if isinstance(value, list) else [False, True])
    for key, value in COOKIECUTTER_JSON.items()
    if isinstance(value, list | bool)
}
DEFAULTS: dict[str, Any] = {
    key: (value[0] if isinstance(value, list) else value)
    for key, value in COOKIECUTTER_JSON.items()
    if not key.startswith("_") and "{{" not in str(value)
}

Variant = dict[str, Any]

# Everything on; 3.11 because the local CPU build of PyTorch is for 3.11.
LARGEST: Variant = {
    "python_version": "3.11",
    "with_worker": True,
    "use_embedding_model": True,
    "database": "postgres",
    "use_redis": True,
    "deploy": "ssh-compose",
    "notifications": "slack",
    "license": "Apache-2.0",
}


def variant_id(variant: Variant) -> str:
    """A short readable test id: only the answers that differ from the defaults."""
    parts = []
    for key, value in variant.items():
        if DEFAULTS.get(key) == value:
            continue
        if isinstance(value, bool):
            parts.append(key if value else f"no_{key}")
        else:
            parts.append(f"{key}={value}")
    return ",".join(parts) or "defaults"


def every_value() -> list[Variant]:
    """One variant per non-default value of every option."""
    return [
        {option: value}
        for option, values in OPTIONS.items()
        for value in values
        if value != DEFAULTS[option]
    ]


def pairwise() -> list[Variant]:
    """All-pairs cover of the options: every pair of values appears in some variant."""
    names = list(OPTIONS)
    return [dict(zip(names, row, strict=True)) for row in AllPairs([OPTIONS[n] for n in names])]


# A registry other than GHCR: the workflows then log in with secrets of their own.
OTHER_REGISTRY = "registry.example.com/team"
# The options whose values change the generated workflows (tests/test_workflows.py checks that
# no other option does), and the registry, which does too (None: the default, GHCR): the axes of
# the workflow lint set.
WORKFLOW_AXES: dict[str, list[Any]] = {
    **{
        name: OPTIONS[name]
        for name in (
            "with_worker",
            "use_embedding_model",
            "database",
            "use_redis",
            "deploy",
            "notifications",
        )
    },
    "container_registry": [None, OTHER_REGISTRY],
}


def _all_pairs_over(axes: dict[str, list[Any]], base: Variant) -> list[Variant]:
    """All-pairs cover of the axes on top of `base` (None: the axis's default, left out)."""
    names = list(axes)
    rows = AllPairs([axes[n] for n in names])
    return [
        {**base, **{k: v for k, v in zip(names, row, strict=True) if v is not None}} for row in rows
    ]


def workflow_variants() -> list[Variant]:
    """All-pairs cover of every value of every option that changes the workflows' text."""
    return _all_pairs_over(WORKFLOW_AXES, DEFAULTS)


# deploy=kubernetes: the options that change deploy/kubernetes (tests/test_kubernetes.py checks
# that no other option does), and the registry, which names the images.
KUBERNETES: Variant = {**DEFAULTS, "deploy": "kubernetes"}
KUBERNETES_AXES: dict[str, list[Any]] = {
    **{
        name: OPTIONS[name]
        for name in ("with_worker", "use_embedding_model", "database", "use_redis")
    },
    "container_registry": [None, OTHER_REGISTRY],
}


def kubernetes_variants() -> list[Variant]:
    """All-pairs cover of the options that change the Kubernetes manifests, and the largest."""
    largest = {**LARGEST, "deploy": "kubernetes"}
    return [*_all_pairs_over(KUBERNETES_AXES, KUBERNETES), {**KUBERNETES, **largest}]


def full_product() -> list[Variant]:
    """The whole cross product of option values (scheduled CI only)."""
    names = list(OPTIONS)
    return [dict(zip(names, row, strict=True)) for row in itertools.product(*OPTIONS.values())]
