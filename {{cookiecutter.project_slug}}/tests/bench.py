"""Load benchmark: ``make bench`` (``python -m tests.bench``). Prints figures; asserts nothing.

For each endpoint and concurrency, sends a bounded number of requests (``--requests``, and at
most ``--seconds`` per run) over keep-alive connections and prints requests per second, latency
percentiles and errors (a status of 500 or more, or a failed connection). The load comes from
aiohttp's client, which costs about a third of the CPU that httpx's does per request, so that on
a small machine the client is not what is measured.

Without ``--base-url`` it starts the system here as the system tests do, with the settings of
the environment (``.env``, the servers of ``make services-up``): ``WEB_CONCURRENCY=2 make bench``
measures two worker processes. The load comes from this process, on the same machine: the
figures compare configurations on one machine; they are not the capacity of another.

    make bench
    make bench BENCH_ARGS="--concurrency 1 16 64 --requests 2000"
    make bench BENCH_ARGS="--base-url http://127.0.0.1:8000"
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx

from tests.harness.processes import running_system

# A request that got no answer: refused or reset, or past the client's own timeout.
CLIENT_ERRORS = (aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class Endpoint:
    """One request to measure: how it is sent, and at most how many clients send it at once."""

    name: str
    method: str
    path: str
    body: dict[str, object] | None = None
    max_concurrency: int = 1024


def endpoints(note_id: str) -> list[Endpoint]:
    """What this service serves, as a client would call it."""
    return [
        Endpoint("live", "GET", "/health/live"),
        Endpoint("ready", "GET", "/health/ready"),
        Endpoint("read note", "GET", f"/notes/{note_id}"),
        Endpoint("list notes", "GET", "/notes?limit=20"),
        Endpoint("create note", "POST", "/notes", {"title": "bench", "tags": ["bench"]}),
{%- if cookiecutter.with_worker %}
        Endpoint("enqueue job", "POST", "/jobs/word-count", {"text": "one two three"}),
{%- endif %}
{%- if cookiecutter.use_embedding_model %}
        # CPU-bound: one batch at a time uses every core already.
        Endpoint("embed", "POST", "/embeddings", {"texts": ["a short text"]}, max_concurrency=8),
{%- endif %}
    ]


@dataclass(frozen=True)
class Run:
    """The figures of one endpoint at one concurrency."""

    endpoint: str
    concurrency: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def per_second(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """A latency percentile in milliseconds."""
        if len(self.latencies_ms) < 2:  # quantiles need two values
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        cuts = statistics.quantiles(self.latencies_ms, n=100, method="inclusive")
        return cuts[round(fraction * 100) - 1]


async def measure(
    base_url: str, endpoint: Endpoint, concurrency: int, requests: int, seconds: float
) -> Run:
    """Send ``requests`` requests from ``concurrency`` clients, stopping after ``seconds``."""
    latencies: list[float] = []
    errors = 0
    remaining = requests
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)

    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def one_client() -> None:
            nonlocal remaining, errors
            while remaining > 0 and time.monotonic() < deadline:
                remaining -= 1
                started = time.perf_counter()
                try:
                    async with session.request(
                        endpoint.method, endpoint.path, json=endpoint.body
                    ) as response:
                        await response.read()
                        failed = response.status >= httpx.codes.INTERNAL_SERVER_ERROR
                except CLIENT_ERRORS:
                    failed = True
                latencies.append((time.perf_counter() - started) * 1000)
                errors += failed

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(endpoint.name, concurrency, len(latencies), elapsed, latencies, errors)


def report(runs: list[Run]) -> str:
    """The figures as an aligned table."""
    header = f"{'endpoint':<14} {'conc':>5} {'requests':>9} {'req/s':>9} {'p50 ms':>8} "
    header += f"{'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    rows = [
        f"{run.endpoint:<14} {run.concurrency:>5} {run.requests:>9} {run.per_second:>9.0f} "
        f"{run.percentile(0.50):>8.1f} {run.percentile(0.95):>8.1f} "
        f"{run.percentile(0.99):>8.1f} {run.errors:>7}"
        for run in runs
    ]
    return "\n".join([header, "-" * len(header), *rows])


async def benchmark(base_url: str, args: argparse.Namespace) -> list[Run]:
    """Every endpoint at every concurrency, after a short warm-up."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        created = await client.post("/notes", json={"title": f"bench {uuid.uuid4()}"})
        created.raise_for_status()
        note_id = created.json()["id"]
    runs = []
    for endpoint in endpoints(note_id):
        await measure(base_url, endpoint, 4, 50, args.seconds)  # warm-up: connections, caches
        levels = [level for level in args.concurrency if level <= endpoint.max_concurrency]
        runs += [
            await measure(base_url, endpoint, level, args.requests, args.seconds)
            for level in levels
        ]
    return runs


@contextmanager
def system_under_test(base_url: str | None) -> Iterator[str]:
    """The given system, or one started here for the run."""
    if base_url:
        yield base_url.rstrip("/")
        return
    with tempfile.TemporaryDirectory() as logs, running_system(Path(logs)) as system:
        yield system.base_url


def main() -> None:
    """Parse the arguments, run the benchmark, print the table."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="a running system (default: start one here)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint and concurrency")
    parser.add_argument("--seconds", type=float, default=10.0, help="time cap of each run")
    args = parser.parse_args()
    with system_under_test(args.base_url) as base_url:
        runs = asyncio.run(benchmark(base_url, args))
    print(f"{base_url}: {args.requests} requests per run, at most {args.seconds:g} s each")  # noqa: T201
    print(report(runs))  # noqa: T201


if __name__ == "__main__":
    main()
