"""Add a service to the workspace: ``make new-service NAME=<name>``.

Creates ``services/<name>/`` from ``scripts/service-template/`` (a process that works in rounds,
on the core package: settings, logs, metrics, a health check, unit and integration tests, its
Dockerfile), then adds what names it and cannot be derived: its entries in the compose files and
the local Prometheus, its ``mypy_path`` line, and (with ``uv add``) the root project's dependency
on it, which re-resolves ``uv.lock``. Everything else (Make targets, CI jobs, image builds and
scans, Dependabot, the other services' Dockerfiles) finds services on disk.

A bad name, or a project whose files no longer have the places this script edits, stops it with
the reason before anything is written; a failure while writing takes back what it wrote.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKELETON = ROOT / "scripts" / "service-template"
PACKAGE = "{{ cookiecutter.package_name }}"
DISTRIBUTION = "{{ cookiecutter.project_slug }}"
NAME = re.compile(r"[a-z][a-z0-9]{0,19}")
# Names the Makefile's parts, the shared package or Python already take.
RESERVED = {"core", "tests", "test", "shared", "all", "packages", "services", "scripts"}
FIRST_METRICS_PORT = 8003


class RefusedError(Exception):
    """The service cannot be added as asked; the message says why and what is allowed."""


def check_name(name: str | None) -> str:
    """The service's name, if it is one a new service may take."""
    if not name:
        raise RefusedError("NAME is required: make new-service NAME=billing")
    if not NAME.fullmatch(name):
        raise RefusedError(
            f"NAME '{name}' is not a service name: lower-case letters and digits, starting with a"
            " letter, at most 20 (it becomes the directory services/<name>, the package"
            f" {PACKAGE}_<name> and the image {DISTRIBUTION}-<name>)"
        )
    if name in RESERVED:
        raise RefusedError(f"NAME '{name}' is taken by the project itself: choose another")
    if (ROOT / "services" / name).exists():
        raise RefusedError(f"NAME '{name}': services/{name} exists already")
    return name


def metrics_port() -> int:
    """The next metrics port after those the services' images expose."""
    ports = [
        int(port)
        for dockerfile in ROOT.glob("services/*/Dockerfile")
        for line in dockerfile.read_text("utf-8").splitlines()
        if line.startswith("EXPOSE ")
        for port in line.split()[1:]
    ]
    return max([FIRST_METRICS_PORT - 1, *ports]) + 1


def fill(text: str, name: str, port: int) -> str:
    """A skeleton file's text for this service."""
    return (
        text.replace("@service@", name)
        .replace("@SERVICE@", name.upper())
        .replace("@port@", str(port))
    )


def destination(relative: Path, name: str) -> Path:
    """Where a skeleton file goes in services/<name> (src/ holds the package's modules)."""
    parts = relative.with_suffix("").parts  # without .tmpl
    if parts[0] == "src":
        parts = ("src", f"{PACKAGE}_{name}", *parts[1:])
    return Path(*parts)


def add_after_services(text: str, entry: str, path: str) -> str:
    """A compose file with ``entry`` as the last item of its top-level ``services:``."""
    lines = text.splitlines(keepends=True)
    try:
        start = lines.index("services:\n")
    except ValueError:
        raise RefusedError(f"{path} has no top-level 'services:' to add the service to") from None
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"[A-Za-z]", lines[i])), len(lines)
    )
    # Before the blank lines and comments that lead into the next top-level key.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return "".join([*lines[:end], entry, *lines[end:]])


def append(text: str, entry: str, _path: str) -> str:
    """A file with ``entry`` at its end."""
    return (text if text.endswith("\n") else text + "\n") + entry


Editor = Callable[[str, str, str], str]
# The entries the script adds: the skeleton's file, the file it goes into, and how.
ENTRIES: dict[str, tuple[str, Editor]] = {
    "compose.yml.tmpl": ("docker-compose.yml", add_after_services),
    "compose.dev.yml.tmpl": ("docker-compose.dev.yml", add_after_services),
    "prometheus.yml.tmpl": ("observability/prometheus.yml", append),
}
NOT_COPIED = {"README.md", *ENTRIES}


def add_mypy_path(text: str, name: str) -> str:
    """pyproject.toml with the service's src in tool.mypy's mypy_path."""
    match = re.search(r"^mypy_path = \[\n(?:    .*\n)*?(?=\]\n)", text, re.MULTILINE)
    if match is None:
        raise RefusedError("pyproject.toml has no multi-line mypy_path = [...] under [tool.mypy]")
    return text[: match.end()] + f'    "services/{name}/src",\n' + text[match.end() :]


def plan(name: str) -> tuple[dict[Path, str], dict[Path, str]]:
    """The new service's files, and the new text of each file it edits; nothing written yet."""
    port = metrics_port()
    created = {
        destination(path.relative_to(SKELETON), name): fill(path.read_text("utf-8"), name, port)
        for path in sorted(SKELETON.rglob("*.tmpl"))
        if path.name not in NOT_COPIED
    }
    edited: dict[Path, str] = {}
    for skeleton, (target, add) in ENTRIES.items():
        path = ROOT / target
        if not path.is_file():
            raise RefusedError(f"{target} is missing: the service's entry goes there")
        entry = fill((SKELETON / skeleton).read_text("utf-8"), name, port)
        edited[path] = add(path.read_text("utf-8"), entry, target)
    pyproject = ROOT / "pyproject.toml"
    edited[pyproject] = add_mypy_path(pyproject.read_text("utf-8"), name)
    return created, edited


def uv(*args: str) -> subprocess.CompletedProcess[str]:
    """Run uv in the project root: the one that runs this script (`uv run` sets UV), else PATH's."""
    return subprocess.run(  # noqa: S603 -- fixed arguments
        [os.environ.get("UV", "uv"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def create(name: str) -> list[str]:
    """Add the service; the notes to print. On any failure, the project is left as it was."""
    created, edited = plan(name)
    service = ROOT / "services" / name
    originals = {path: path.read_bytes() for path in edited}
    # Written beside its place, then moved there in one step: never half a service directory.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=service.parent))
    moved = False
    try:
        for relative, text in created.items():
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            (staging / relative).write_text(text, "utf-8")
        staging.rename(service)
        moved = True
        for path, text in edited.items():
            path.write_text(text, "utf-8")
        # The root project's dependency and its workspace source, written by uv itself.
        added = uv("add", "--frozen", f"{DISTRIBUTION}-{name}")
        if added.returncode != 0:
            raise RefusedError(f"uv add {DISTRIBUTION}-{name} failed: {added.stderr.strip()}")
    except BaseException:
        shutil.rmtree(service if moved else staging, ignore_errors=True)
        for path, content in originals.items():
            path.write_bytes(content)
        raise
    locked = uv("lock")
    notes = [f"services/{name}: created ({len(created)} files)"]
    notes += [f"{path.relative_to(ROOT)}: its entry added" for path in edited]
    notes.append(f"pyproject.toml: the dependency on {DISTRIBUTION}-{name} added (uv add)")
    if locked.returncode == 0:
        notes.append("uv.lock: re-resolved")
    else:
        last = locked.stderr.strip().splitlines()[-1:] or ["uv lock failed"]
        notes.append(f"uv.lock not re-resolved ({last[0]}): run `make lock`, then commit it")
    notes.append(
        f"Next: make install lint typecheck test-{name}-unit test-{name}-integration build-{name}"
    )
    return notes


def main() -> None:
    """Parse the command line, add the service, print what changed."""
    parser = argparse.ArgumentParser(description="Add a service to the workspace.")
    parser.add_argument("name", nargs="?", help="the new service's name (services/<name>)")
    arguments = parser.parse_args()
    try:
        notes = create(check_name(arguments.name))
    except RefusedError as refused:
        sys.exit(f"new-service: {refused}; nothing was changed.")
    for note in notes:
        print(note)  # noqa: T201 -- a command-line tool's report


if __name__ == "__main__":
    main()
