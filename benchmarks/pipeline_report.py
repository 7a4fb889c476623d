"""Print the dev pipeline's job graph and time each job's local equivalent (requirement A5).

    bash .ci/start-services            # PostgreSQL and Redis on loopback
    bash .ci/start-docker              # a Docker engine with BuildKit, for `make build`
    uv run python benchmarks/pipeline_report.py [--variant defaults|largest]

A5: the generated pipeline's critical path is one job deep before deploy. The script bakes a
project, reads its .github/workflows/dev.yml and prints every job with its `needs` and depth
(no needs: 1; else 1 + the deepest of its needs) and the longest chain. Then it runs, one after
the other in the baked project, the local equivalent of each job before deploy: for a job that
calls reusable-make.yml, `make <its targets>` after `make install` (run and timed once as
"setup", but counted in every such job, since each CI job installs on its own runner); for the
one that calls reusable-build.yml, `make build` (Docker, from local stand-in base images as in
the tests), after a one-line change to each service's main.py, as a push brings. Deploy is
not run: it needs a server.

It ends with the critical path (the longest chain of jobs before deploy, with their setup)
against the sequential sum (every job one after another, as the former pipeline
lint -> test -> build -> deploy ran them), and their ratio.

A report, not a test: the figures depend on the machine, and the image build on BuildKit's
layer cache (warm after earlier builds of the same lock file, as the GitHub Actions cache is).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import machine
from docker_standins import DockerUnavailable, ensure_base_images, find_docker
from engines import render_cookiecutter, snapshot_template
from variants import DEFAULTS, LARGEST

VARIANTS: dict[str, dict[str, Any]] = {"defaults": {}, "largest": LARGEST}
MAKE_WORKFLOW = "./.github/workflows/reusable-make.yml"
BUILD_WORKFLOW = "./.github/workflows/reusable-build.yml"
DEPLOY_WORKFLOW = "./.github/workflows/reusable-deploy.yml"


@dataclass
class Job:
    """One job of the workflow and, once run, the wall time of its local equivalent."""

    name: str
    needs: list[str]
    uses: str
    targets: list[str]
    seconds: float | None = None
    setup: bool = False  # whether the job installs the project first (counts the setup time)
    note: str = ""


def read_jobs(workflow: Path) -> dict[str, Job]:
    """The workflow's jobs in file order, with their needs and the make targets they run."""
    document: dict[str, Any] = yaml.safe_load(workflow.read_text("utf-8"))
    jobs = {}
    for name, body in document["jobs"].items():
        needs = body.get("needs", [])
        targets = str(body.get("with", {}).get("targets", "")).split()
        jobs[name] = Job(
            name, [needs] if isinstance(needs, str) else list(needs), body.get("uses", ""), targets
        )
    return jobs


def chains(jobs: dict[str, Job], weight: dict[str, float] | None = None) -> dict[str, list[str]]:
    """For each job, the chain of needs ending in it with the greatest total weight.

    Each job weighs 1 without weights, so a chain's length is then its job's depth.
    """
    best: dict[str, tuple[float, list[str]]] = {}

    def chain(name: str) -> tuple[float, list[str]]:
        if name not in best:
            needs = (chain(need) for need in jobs[name].needs)
            before = max(needs, key=lambda found: found[0], default=(0.0, []))
            own = 1.0 if weight is None else weight.get(name, 0.0)
            best[name] = (before[0] + own, [*before[1], name])
        return best[name]

    # The heaviest chains first; the first of equal ones in file order.
    found = sorted(((chain(name), name) for name in jobs), key=lambda item: -item[0][0])
    return {name: weighed[1] for weighed, name in found}


def longest_chain(jobs: dict[str, Job], weight: dict[str, float] | None = None) -> list[str]:
    """The chain of needs with the greatest total weight (each job 1 without weights)."""
    return next(iter(chains(jobs, weight).values()), [])


def upstream(jobs: dict[str, Job], name: str) -> list[str]:
    """Every job `name` waits for, directly or not, in file order."""
    seen: set[str] = set()
    pending = list(jobs[name].needs)
    while pending:
        need = pending.pop()
        if need not in seen:
            seen.add(need)
            pending.extend(jobs[need].needs)
    return [job for job in jobs if job in seen]


def run_build(job: Job, project: Path, env: dict[str, str], variant: dict[str, Any]) -> None:
    """`make build` with local base images; on no Docker, record why it was not measured."""
    if variant["use_embedding_model"]:
        job.note = (
            "not measured: uv.lock takes torch from a local file index that no image build can"
            " reach (benchmarks/image_build.py --embedding measures that image)"
        )
        return
    try:
        docker = find_docker()
        for dockerfile in sorted(project.glob("services/*/Dockerfile")):
            ensure_base_images(docker, dockerfile)
    except DockerUnavailable as error:
        job.note = f"not measured: {str(error).strip().splitlines()[-1]}"
        return
    # A push changes code: without a change, a bake of the same lock and code is all cached.
    for main in project.glob("services/*/src/*/main.py"):
        main.write_text(main.read_text("utf-8") + f"# change {uuid.uuid4()}\n", "utf-8")
    image = f"template-bench/pipeline-{uuid.uuid4().hex[:8]}"
    build_env = env | dict(docker.env)
    build_env["PATH"] = f"{Path(docker.cli).parent}{os.pathsep}{build_env['PATH']}"
    try:
        job.seconds, output = machine.timed_make(["build", f"IMAGE={image}"], project, build_env)
        cached = len(re.findall(r"^#\d+ CACHED\s*$", output, re.MULTILINE))
        job.note = f"after a code change; {cached} steps from the layer cache"
    except subprocess.CalledProcessError as error:
        job.note = f"not measured: make build failed:\n{str(error.output)[-3000:]}"
    finally:
        for dockerfile in project.glob("services/*/Dockerfile"):
            docker.run("rmi", "-f", f"{image}-{dockerfile.parent.name}:latest", check=False)


def print_graph(jobs: dict[str, Job]) -> None:
    """Each job with its needs and depth, the longest chain, and whether A5 holds."""
    chain_of = chains(jobs)
    print(f"{'job':<10}{'needs':<30}{'depth':>6}")
    for job in jobs.values():
        print(f"{job.name:<10}{', '.join(job.needs) or '-':<30}{len(chain_of[job.name]):>6}")
    chain = next(iter(chain_of.values()), [])
    print(f"longest chain: {' -> '.join(chain)} ({len(chain)} jobs)")
    if "deploy" in jobs:
        parallel = all(not jobs[need].needs for need in jobs["deploy"].needs)
        print(f"jobs before deploy run in parallel: {'yes' if parallel else 'no'}")


def run_jobs(
    jobs: dict[str, Job],
    before: list[str],
    project: Path,
    variant: dict[str, Any],
    torch_index: str | None,
) -> float:
    """Time each job's local equivalent against a fresh database; return the setup's seconds."""
    setup: float | None = None
    with machine.bench_env(variant, torch_index) as env:
        try:
            for name in before:
                job = jobs[name]
                if job.uses == MAKE_WORKFLOW:
                    if setup is None:
                        setup, _ = machine.timed_make(["install"], project, env)
                    job.setup = True
                    job.seconds, _ = machine.timed_make(job.targets, project, env)
                elif job.uses == BUILD_WORKFLOW:
                    run_build(job, project, env, variant)
                else:
                    job.note = f"not measured: no local equivalent of {job.uses or 'its steps'}"
        except subprocess.CalledProcessError as error:
            sys.exit(f"{' '.join(error.cmd)} failed:\n{error.output}")
    return setup or 0.0


def print_table(jobs: dict[str, Job], before: list[str], setup: float) -> dict[str, float]:
    """One row per job; return each measured job's seconds with its setup."""
    print(f"{'job':<10}{'local equivalent':<32}{'seconds':>9}{'with setup':>12}")
    print(f"{'(setup)':<10}{'make install':<32}{setup:>9.1f}{'':>12}  counted in each make job")
    total: dict[str, float] = {}
    for name in before:
        job = jobs[name]
        command = {MAKE_WORKFLOW: "make " + " ".join(job.targets), BUILD_WORKFLOW: "make build"}
        if job.seconds is None:
            first, *rest = job.note.splitlines() or [""]
            print(f"{name:<10}{command.get(job.uses, '-'):<32}{'-':>9}{'-':>12}  {first}")
            print("".join(f"{'':<10}{line}\n" for line in rest), end="")
            continue
        total[name] = job.seconds + (setup if job.setup else 0.0)
        print(
            f"{name:<10}{command.get(job.uses, '-'):<32}{job.seconds:>9.1f}"
            f"{total[name]:>12.1f}  {job.note}".rstrip()
        )
    for name, job in jobs.items():
        if name not in before:
            reason = "needs a server" if job.uses == DEPLOY_WORKFLOW else "runs after deploy"
            print(f"{name:<10}{'(not run: ' + reason + ')'}")
    return total


def print_summary(jobs: dict[str, Job], before: list[str], total: dict[str, float]) -> None:
    """Critical path against the sequential sum of the measured jobs."""
    critical_chain = longest_chain({name: jobs[name] for name in before}, total)
    critical = sum(total.get(name, 0.0) for name in critical_chain)
    sequential = sum(total.values())
    print(f"critical path before deploy  {critical:8.1f} s  ({' -> '.join(critical_chain)})")
    print(f"sequential sum               {sequential:8.1f} s  ({' -> '.join(total)})")
    if critical:
        print(f"sequential / critical path   {sequential / critical:8.2f} x")
    missing = [name for name in before if name not in total]
    if missing:
        print(f"not in these sums (not measured): {', '.join(missing)}")
    print("deploy is not run (it needs a server); it starts once the critical path ends.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="defaults")
    args = parser.parse_args()
    for url in (machine.POSTGRES_ADMIN_URL, machine.REDIS_SERVER_URL):
        if not machine.reachable(url):
            sys.exit(f"no server at {url}: run bash .ci/start-services first")
    answers = VARIANTS[args.variant]
    with tempfile.TemporaryDirectory() as scratch:
        template = snapshot_template(Path(scratch) / "template")
        torch_index = machine.build_torch_index(Path(scratch) / "torch-index")
        project = render_cookiecutter(template, answers, Path(scratch) / args.variant)
        jobs = read_jobs(project / ".github" / "workflows" / "dev.yml")
        print(f"dev.yml of the {args.variant} variant:")
        print_graph(jobs)
        before = upstream(jobs, "deploy") if "deploy" in jobs else list(jobs)
        setup = run_jobs(jobs, before, project, {**DEFAULTS, **answers}, torch_index)
    print()
    total = print_table(jobs, before, setup)
    print()
    print_summary(jobs, before, total)


if __name__ == "__main__":
    main()
