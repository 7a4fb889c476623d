"""Print how long one bake takes with each engine (default answers), as median and spread.

    uv run python benchmarks/bake_time.py [--runs 15]

A report, not a test: the figures depend on the machine. The template is
snapshotted into a tagged git repository first, exactly as the tests do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from engines import render_cookiecutter, render_copier, snapshot_template


def timed(runs: int, bake: Callable[[Path], object]) -> list[float]:
    """Wall time in seconds of each of `runs` bakes, each into a fresh directory."""
    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            bake(Path(out))
            seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        template = snapshot_template(Path(scratch) / "template")
        engines: dict[str, Callable[[Path], object]] = {
            "cookiecutter": lambda out: render_cookiecutter(template, {}, out),
            "copier": lambda out: render_copier(template, {}, out / "my-service"),
        }
        timed(1, engines["cookiecutter"])  # warm imports and caches once
        print(f"{'engine':<14}{'runs':>6}{'median s':>11}{'min s':>9}{'max s':>9}")
        for name, bake in engines.items():
            seconds = timed(args.runs, bake)
            print(
                f"{name:<14}{len(seconds):>6}{statistics.median(seconds):>11.3f}"
                f"{min(seconds):>9.3f}{max(seconds):>9.3f}"
            )


if __name__ == "__main__":
    main()
