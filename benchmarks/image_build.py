"""Print what the generated images cost: build times, cache effect and sizes.

    bash .ci/start-docker                      # a Docker engine with BuildKit
    uv run python benchmarks/image_build.py [--runs 3] [--keep-cache] [--embedding]

For the default variant's api image (services/api/Dockerfile, runtime stage):

* cold build: no layer cache and an empty uv download cache, so every package is downloaded
  (base images are local: stand-ins, as in the tests, or pulled ones);
* rebuild after a one-line code change, its ratio to the cold build, and the size of the
  layer that change adds (what a deploy then pulls);
* runtime image size against its base image.

With --embedding, the same for the embedding variant's api image (CPU torch from the machine's
local wheel, served as the `pytorch-cpu` index on loopback).

For the model image (Dockerfile.model, embedding variant): its build from a loopback stand-in of
the Hugging Face Hub serving the small test model, a rebuild after a code change (no download),
and its size.

A report, not a test: the figures depend on the machine and its network. Cold builds empty
BuildKit's cache mounts first (`docker builder prune --filter type=exec.cachemount`), which
other projects on the same engine share; `--keep-cache` keeps them (then "cold" means no layer
cache but a warm download cache).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import machine
from docker_standins import Docker, ensure_base_images, find_docker, serve_directory
from engines import render_cookiecutter, snapshot_template
from hub_standin import Hub, serve_hub
from variants import DEFAULTS

EMBEDDING = {"use_embedding_model": True, "python_version": "3.11", "database": "none"}


def lock(project: Path, answers: dict[str, object]) -> None:
    """`uv lock` the baked project (generated projects commit uv.lock; bakes have none)."""
    variant = {**DEFAULTS, **answers}
    # The embedding variant's torch index is the one in its pyproject.toml, not UV_INDEX.
    env = machine.project_env(variant, "unused" if variant["use_embedding_model"] else None)
    env.pop("UV_INDEX", None)
    subprocess.run(["uv", "lock", "--quiet"], cwd=project, env=env, check=True)


def build(
    docker: Docker,
    project: Path,
    dockerfile: str,
    tag: str,
    *,
    no_cache: bool = False,
    build_args: dict[str, str] | None = None,
) -> float:
    """Build; return the wall time in seconds (exit with the log on failure)."""
    result = docker.build(project, dockerfile, tag, no_cache=no_cache, build_args=build_args)
    if result.returncode != 0:
        sys.exit(f"build of {dockerfile} failed:\n{result.output[-5000:]}")
    return result.seconds


def size_mb(docker: Docker, image: str) -> float:
    """An image's size in MB (10^6 bytes), as `docker images` counts it."""
    return int(docker.inspect("image", image)["Size"]) / 1e6


def last_layer_kb(docker: Docker, image: str, marker: str) -> float:
    """Size in kB of the newest layer whose command contains ``marker``."""
    history = docker.run("history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", image)
    for line in history.stdout.splitlines():
        command, _, size = line.rpartition("\t")
        if marker in command:
            value = float(size.rstrip("kMGB"))
            factor = {"kB": 1, "MB": 1e3, "GB": 1e6}.get(size.lstrip("0123456789."), 1e-3)
            return value * factor
    return float("nan")


def empty_download_cache(docker: Docker) -> None:
    """Remove BuildKit's cache mounts (uv's download cache among them)."""
    docker.run("builder", "prune", "--force", "--filter", "type=exec.cachemount")


def api_figures(docker: Docker, template: Path, scratch: Path, runs: int, keep: bool) -> None:
    """Cold build, code-only rebuild and sizes of the default variant's api image."""
    project = render_cookiecutter(template, {}, scratch / "api")
    lock(project, {})
    dockerfile = "services/api/Dockerfile"
    images = ensure_base_images(docker, project / dockerfile)
    tag = f"template-bench/api-{uuid.uuid4().hex[:8]}:latest"
    main = next(project.glob("services/api/src/*_api/main.py"))
    cold_seconds, rebuild_seconds, layer_kb = [], [], []
    try:
        for _ in range(runs):
            if not keep:
                empty_download_cache(docker)
            cold_seconds.append(build(docker, project, dockerfile, tag, no_cache=True))
            main.write_text(main.read_text("utf-8") + f"# change {uuid.uuid4()}\n", "utf-8")
            rebuild_seconds.append(build(docker, project, dockerfile, tag))
            layer_kb.append(last_layer_kb(docker, tag, "uv pip install"))
        base = size_mb(docker, images["python"])
        runtime = size_mb(docker, tag)
    finally:
        docker.run("rmi", "-f", tag, check=False)
    cold_median, rebuild_median = (
        statistics.median(cold_seconds),
        statistics.median(rebuild_seconds),
    )
    print(f"api image (default variant, Python {DEFAULTS['python_version']}), {runs} runs, median:")
    print(f"  cold build                     {cold_median:8.1f} s")
    print(f"  rebuild after a code change    {rebuild_median:8.1f} s")
    print(f"  cold / rebuild                 {cold_median / rebuild_median:8.1f} x")
    print(f"  layer added by the change      {statistics.median(layer_kb):8.1f} kB")
    print(f"  runtime image                  {runtime:8.1f} MB")
    print(f"  base image                     {base:8.1f} MB ({images['python']})")
    print(f"  runtime - base                 {runtime - base:8.1f} MB")


def embedding_api_figures(docker: Docker, template: Path, scratch: Path, keep: bool) -> None:
    """Cold build and code-only rebuild of the embedding variant's api image (CPU torch)."""
    project = render_cookiecutter(template, EMBEDDING, scratch / "embedding-api")
    torch_dir = scratch / "torch-index"
    torch_dir.mkdir()
    if machine.build_torch_index(torch_dir) is None:
        print("embedding api image: skipped, no local CPU torch wheel (TORCH_WHEELS_DIR)")
        return
    dockerfile = "services/api/Dockerfile"
    images = ensure_base_images(docker, project / dockerfile)
    tag = f"template-bench/embedding-api-{uuid.uuid4().hex[:8]}:latest"
    main = next(project.glob("services/api/src/*_api/main.py"))
    try:
        # torch comes from a loopback copy of the CPU index, which uv.lock then records.
        with serve_directory(torch_dir) as torch_url:
            pyproject = project / "pyproject.toml"
            text = pyproject.read_text("utf-8")
            pyproject.write_text(text.replace("https://download.pytorch.org/whl/cpu", torch_url))
            lock(project, EMBEDDING)
            if not keep:
                empty_download_cache(docker)
            first = build(docker, project, dockerfile, tag, no_cache=True)
            main.write_text(main.read_text("utf-8") + f"# change {uuid.uuid4()}\n", "utf-8")
            again = build(docker, project, dockerfile, tag)
        runtime = size_mb(docker, tag)
        base = size_mb(docker, images["python"])
    finally:
        docker.run("rmi", "-f", tag, check=False)
    print("api image (embedding variant: sentence-transformers on CPU torch), 1 run:")
    print(f"  cold build                     {first:8.1f} s")
    print(f"  rebuild after a code change    {again:8.1f} s")
    print(f"  cold / rebuild                 {first / again:8.1f} x")
    print(f"  runtime image                  {runtime:8.1f} MB (base {base:.1f} MB)")


def model_figures(docker: Docker, template: Path, scratch: Path) -> None:
    """Build, rebuild and size of the model image, from a loopback Hub."""
    project = render_cookiecutter(template, EMBEDDING, scratch / "model")
    ensure_base_images(docker, project / "Dockerfile.model")
    tag = f"template-bench/model-init-{uuid.uuid4().hex[:8]}:latest"
    hub = Hub(str(DEFAULTS["embedding_model_name"]), machine.local_model_dir())
    try:
        with serve_hub(hub) as endpoint:
            args = {"HF_ENDPOINT": endpoint}
            first = build(docker, project, "Dockerfile.model", tag, build_args=args)
            (project / "services" / "api" / "src" / "changed.py").write_text("# change\n")
            hub.requests.clear()
            again = build(docker, project, "Dockerfile.model", tag, build_args=args)
        model_dir_mb = sum(f.stat().st_size for f in hub.directory.rglob("*") if f.is_file()) / 1e6
        image = size_mb(docker, tag)
    finally:
        docker.run("rmi", "-f", tag, check=False)
    print(f"model image ({hub.repo_id}, {model_dir_mb:.1f} MB of files):")
    print(f"  build (download from loopback) {first:8.1f} s")
    print(f"  rebuild after a code change    {again:8.1f} s   ({len(hub.requests)} Hub requests)")
    print(f"  model-init image               {image:8.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-cache", action="store_true", help="keep BuildKit cache mounts")
    parser.add_argument(
        "--embedding", action="store_true", help="also the embedding variant's api image (slow)"
    )
    args = parser.parse_args()
    docker = find_docker()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        template = snapshot_template(scratch / "template")
        api_figures(docker, template, scratch, args.runs, args.keep_cache)
        if args.embedding:
            embedding_api_figures(docker, template, scratch, args.keep_cache)
        model_figures(docker, template, scratch)


if __name__ == "__main__":
    main()
