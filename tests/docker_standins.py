"""The Docker side of the container tier: the engine, BuildKit builds, compose, stand-in images.

No registry is reachable from the machines the template is tested on, so the base images the
generated Dockerfiles start FROM are made here and tagged with exactly the names those
Dockerfiles use (their pinned ``FROM`` lines):

* ``python:<version>-slim-trixie``: ``debootstrap`` of the Debian release whose own Python is that
  minor version (bookworm 3.11, trixie 3.13), ``docker import``-ed, with the machine's CA bundle
  (``SSL_CERT_FILE``) so that package downloads inside builds pass the machine's TLS proxy;
* ``ghcr.io/astral-sh/uv:<version>``: the ``uv`` and ``uvx`` binaries of that version's PyPI wheel;
* ``busybox:<version>``: Debian's static busybox with its applets.

An image that exists already under such a tag is used as it is (a real one, pulled where a
registry is reachable, or a stand-in from an earlier session): each Debian release is
bootstrapped at most once. Stand-ins carry the label ``org.template-tests.standin``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub_standin import serving

STANDIN_LABEL = "org.template-tests.standin"
# Debian releases by the Python minor version they ship.
DEBIAN_PYTHON = {"3.11": "bookworm", "3.13": "trixie"}


def debian_mirror() -> str:
    """The Debian mirror debootstrap uses: $DEBIAN_MIRROR, else the one apt here already uses."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"]
    targets = subprocess.run(
        ["apt-get", "indextargets", "--format", "$(REPO_URI) $(RELEASE)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for line in targets:
        uri, _, release = line.partition(" ")
        if uri and not release.endswith(("-security", "-updates", "-backports")):
            return uri
    raise DockerUnavailable("no Debian mirror configured for apt; set DEBIAN_MIRROR")


# Stand-ins are built once per machine; concurrent test processes (xdist) wait for each other.
LOCK_FILE = Path(tempfile.gettempdir()) / "template-tests-docker-standins.lock"
TIMEOUT = 1800


class DockerUnavailable(Exception):
    """No engine, no BuildKit, or nothing to make a stand-in with; the message says which."""


@dataclass(frozen=True)
class Step:
    """One step of a BuildKit build, from its ``--progress=plain`` log."""

    name: str  # "[deps 5/5] RUN --mount=type=cache,... uv sync ..."
    cached: bool


@dataclass(frozen=True)
class Build:
    """A finished ``docker build``."""

    command: list[str]
    output: str
    seconds: float
    returncode: int

    def steps(self) -> list[Step]:
        """The build's steps in log order, each with whether BuildKit took it from its cache."""
        names: dict[str, str] = {}
        cached: set[str] = set()
        for line in self.output.splitlines():
            if match := re.match(r"#(\d+) (\[.+)$", line):
                names.setdefault(match[1], match[2].strip())
            elif match := re.match(r"#(\d+) CACHED\s*$", line):
                cached.add(match[1])
        return [Step(name, number in cached) for number, name in names.items()]

    def step(self, stage: str, command_fragment: str) -> Step:
        """The one step of ``stage`` whose command contains ``command_fragment``."""
        found = [
            step
            for step in self.steps()
            if step.name.startswith(f"[{stage} ") and command_fragment in step.name
        ]
        assert len(found) == 1, (stage, command_fragment, [s.name for s in self.steps()])
        return found[0]


@dataclass(frozen=True)
class Docker:
    """A docker CLI that reaches an engine and builds with BuildKit."""

    cli: str
    env: Mapping[str, str]

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, stdin: Any = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS``; on failure with ``check``, raise with the whole output."""
        result = subprocess.run(
            [self.cli, *args],
            env={**os.environ, **self.env},
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            message = f"$ docker {' '.join(args)}\n{result.stdout}\n{result.stderr}"
            raise AssertionError(message)
        return result

    def image_exists(self, tag: str) -> bool:
        """Whether the engine has an image with this tag."""
        return self.run("image", "inspect", tag, check=False).returncode == 0

    def inspect(self, kind: str, name: str) -> dict[str, Any]:
        """``docker <kind> inspect NAME`` as a dict."""
        data: list[dict[str, Any]] = json.loads(self.run(kind, "inspect", name).stdout)
        return data[0]

    def build(
        self,
        context: Path,
        dockerfile: str,
        tag: str,
        *,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        network: str = "host",
        no_cache: bool = False,
        timeout: float = TIMEOUT,
    ) -> Build:
        """``docker build`` with plain progress output (which says which steps were cached).

        The host network lets a build reach loopback stand-ins (the Hub, a package index).
        """
        command = [self.cli, "build", "--progress=plain", f"--network={network}"]
        command += ["-f", dockerfile, "-t", tag]
        if target:
            command += ["--target", target]
        if no_cache:
            command.append("--no-cache")
        for key, value in (build_args or {}).items():
            command += ["--build-arg", f"{key}={value}"]
        command.append(".")
        started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=context,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Build(
            command,
            result.stdout + result.stderr,
            time.monotonic() - started,
            result.returncode,
        )


def find_compose() -> list[str] | None:
    """A compose v2 command line (``docker compose`` or a v2 ``docker-compose``), if any.

    ``config`` needs no engine: compose only parses, interpolates and merges the files.
    """
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        version = subprocess.run(
            [standalone, "version", "--short"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if re.match(r"v?[2-9]", version):
            return [standalone]
    return None


def _client_major(cli: str) -> int:
    result = subprocess.run(
        [cli, "version", "--format", "{{.Client.Version}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    match = re.match(r"(\d+)", result.stdout.strip())
    return int(match[1]) if match else 0


@functools.cache
def find_docker() -> Docker:
    """A docker CLI that reaches a running engine and can build with BuildKit.

    Raises DockerUnavailable with the reason otherwise. Since Docker 23 the CLI builds with
    BuildKit only through the buildx plugin; older CLIs (Debian bookworm's docker.io) have
    BuildKit built in behind DOCKER_BUILDKIT=1.
    """
    cli = shutil.which("docker")
    if cli is None:
        raise DockerUnavailable("no docker command (run .ci/start-docker)")
    info = subprocess.run(
        [cli, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if info.returncode != 0:
        reason = (info.stderr or info.stdout).strip().splitlines()[-1:]
        raise DockerUnavailable(f"no Docker engine answers ({' '.join(reason)})")
    buildx = subprocess.run([cli, "buildx", "version"], capture_output=True, check=False)
    if buildx.returncode == 0:
        return Docker(cli, {"DOCKER_BUILDKIT": "1"})
    for candidate in (cli, "/usr/bin/docker"):
        if Path(candidate).exists() and 0 < _client_major(candidate) < 23:
            return Docker(candidate, {"DOCKER_BUILDKIT": "1"})
    raise DockerUnavailable("the docker CLI has no buildx plugin, so no BuildKit builds")


def base_images(dockerfile: Path) -> list[str]:
    """The images a Dockerfile names in FROM lines (not stages, not build-arg references)."""
    images, stages = [], set()
    for line in dockerfile.read_text("utf-8").splitlines():
        if match := re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE):
            image, stage = match[1], match[2]
            if "$" not in image and image not in stages and image not in images:
                images.append(image)
            if stage:
                stages.add(stage)
    return images


@contextmanager
def _standin_lock() -> Iterator[None]:
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], **kwargs: Any) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        message = f"$ {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        raise DockerUnavailable(message)


def _import(docker: Docker, rootfs: Path, tag: str, changes: list[str]) -> None:
    """``docker import`` a directory tree (numeric owners kept) as image ``tag``."""
    command = [docker.cli, "import"]
    for change in changes:
        command += ["--change", change]
    command += ["-", tag]
    with subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
    ) as tar:
        result = subprocess.run(
            command, stdin=tar.stdout, capture_output=True, text=True, check=False, timeout=900
        )
    if result.returncode != 0 or tar.returncode != 0:
        raise DockerUnavailable(f"docker import {tag} failed: {result.stderr}")


def ca_bundle() -> Path:
    """The machine's CA bundle (it trusts the machine's TLS-intercepting proxy, if any)."""
    for candidate in (
        os.environ.get("SSL_CERT_FILE"),
        ssl.get_default_verify_paths().cafile,
        "/etc/ssl/certs/ca-certificates.crt",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise DockerUnavailable("no CA bundle on this machine to give the builds")


def _debian_python(docker: Docker, release: str) -> str:
    """A Debian ``release`` image with its Python, made by debootstrap once; its tag."""
    tag = f"template-tests/debian-python:{release}"
    if docker.image_exists(tag):
        return tag
    if os.geteuid() != 0:
        raise DockerUnavailable("debootstrap of the stand-in base image needs root")
    if shutil.which("debootstrap") is None:
        raise DockerUnavailable("debootstrap is not installed (run .ci/start-docker)")
    with tempfile.TemporaryDirectory(prefix=f"debootstrap-{release}-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        packages = "python3,python-is-python3,ca-certificates,netbase"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={packages}",
                release,
                str(rootfs),
                debian_mirror(),
            ],
            timeout=TIMEOUT,
        )
        # The machine's bundle, so that TLS through its proxy works inside builds.
        shutil.copyfile(ca_bundle(), rootfs / "etc/ssl/certs/ca-certificates.crt")
        for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftovers).glob("*"):
                if path.is_file():
                    path.unlink()
        _import(
            docker,
            rootfs,
            tag,
            [
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                f"LABEL {STANDIN_LABEL}=debian-{release}",
                'CMD ["python3"]',
            ],
        )
    return tag


def ensure_python_image(docker: Docker, tag: str) -> None:
    """Make ``python:<x.y.z>-...`` exist: the Debian release that ships Python x.y."""
    if docker.image_exists(tag):
        return
    match = re.match(r"(?:.*/)?python:(\d+\.\d+)", tag)
    release = DEBIAN_PYTHON.get(match[1]) if match else None
    if release is None:
        raise DockerUnavailable(f"no Debian release ships the Python of {tag}")
    with _standin_lock():
        if not docker.image_exists(tag):
            docker.run("tag", _debian_python(docker, release), tag)


def _uv_binaries(version: str) -> Path:
    """The directory of the ``uv`` and ``uvx`` binaries of this version (from its PyPI wheel)."""
    here = Path(sys.executable).parent
    local = subprocess.run(
        [str(here / "uv"), "--version"], capture_output=True, text=True, check=False
    )
    if local.returncode == 0 and local.stdout.split()[1:2] == [version]:
        return here
    find_uv = "import uv; print(uv.find_uv_bin())"
    result = subprocess.run(
        [
            str(here / "uv"),
            "run",
            "--no-project",
            "--with",
            f"uv=={version}",
            "python",
            "-c",
            find_uv,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise DockerUnavailable(f"cannot get uv {version} from PyPI: {result.stderr}")
    return Path(result.stdout.strip()).parent


def ensure_uv_image(docker: Docker, tag: str) -> None:
    """Make ``ghcr.io/astral-sh/uv:<version>`` exist: /uv and /uvx, like the real image."""
    if docker.image_exists(tag):
        return
    version = tag.rpartition(":")[2]
    with _standin_lock(), tempfile.TemporaryDirectory(prefix="uv-image-") as tmp:
        if docker.image_exists(tag):
            return
        binaries = _uv_binaries(version)
        rootfs = Path(tmp)
        for name in ("uv", "uvx"):
            shutil.copy2(binaries / name, rootfs / name)
        _import(docker, rootfs, tag, [f"LABEL {STANDIN_LABEL}=uv", 'ENTRYPOINT ["/uv"]'])


def ensure_busybox_image(docker: Docker, tag: str) -> None:
    """Make ``busybox:<version>`` exist: Debian's static busybox with a link per applet."""
    if docker.image_exists(tag):
        return
    with _standin_lock(), tempfile.TemporaryDirectory(prefix="busybox-image-") as tmp:
        if docker.image_exists(tag):
            return
        download = Path(tmp) / "deb"
        download.mkdir()
        _run(["apt-get", "download", "busybox-static"], cwd=download, timeout=600)
        extracted = Path(tmp) / "extracted"
        _run(["dpkg-deb", "-x", str(next(download.glob("*.deb"))), str(extracted)])
        rootfs = Path(tmp) / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        (rootfs / "tmp").mkdir(mode=0o1777)
        (rootfs / "tmp").chmod(0o1777)
        busybox = rootfs / "bin" / "busybox"
        shutil.copy2(extracted / "bin" / "busybox", busybox)
        applets = subprocess.run(
            [str(busybox), "--list"], capture_output=True, text=True, check=True
        ).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (rootfs / "bin" / applet).symlink_to("busybox")
        _import(
            docker,
            rootfs,
            tag,
            ["ENV PATH=/bin", f"LABEL {STANDIN_LABEL}=busybox", 'CMD ["sh"]'],
        )


# Stand-in makers by image repository.
STANDIN_MAKERS = {
    "python": ensure_python_image,
    "ghcr.io/astral-sh/uv": ensure_uv_image,
    "busybox": ensure_busybox_image,
}


def ensure_base_images(docker: Docker, dockerfile: Path) -> dict[str, str]:
    """Make every base image ``dockerfile`` names exist (stand-ins where missing).

    Returns the images by repository (``python``, ``ghcr.io/astral-sh/uv``, ``busybox``).
    """
    images = {}
    for image in base_images(dockerfile):
        repository = image.partition(":")[0]
        maker = STANDIN_MAKERS.get(repository)
        if maker is None:
            raise DockerUnavailable(f"no stand-in for {image}")
        maker(docker, image)
        images[repository] = image
    return images


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test's output."""


def serve_directory(
    directory: Path, host: str = "127.0.0.1"
) -> contextlib.AbstractContextManager[str]:
    """Serve ``directory`` over HTTP on a free loopback port; yield its base URL."""
    return serving(ThreadingHTTPServer((host, 0), partial(_QuietHandler, directory=str(directory))))


def free_port() -> int:
    """A TCP port that is free on the loopback interface now."""
    import socket  # noqa: PLC0415 -- only the host-network tests need it

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def files_in_image(docker: Docker, tag: str) -> set[str]:
    """Every path in an image's filesystem (from ``docker export`` of a created container)."""
    container = docker.run("create", tag).stdout.strip()
    try:
        with tempfile.TemporaryFile() as tar_file:
            subprocess.run(
                [docker.cli, "export", container],
                stdout=tar_file,
                check=True,
                env={**os.environ, **docker.env},
            )
            tar_file.seek(0)
            with tarfile.open(fileobj=tar_file) as tar:
                return {"/" + name.removeprefix("./").rstrip("/") for name in tar.getnames()}
    finally:
        docker.run("rm", "-f", container, check=False)
