import asyncio
import time
from collections.abc import Sequence

from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}_api.dependencies import get_probes
from {{ cookiecutter.package_name }}_api.health import Probe


class StaticProbe:
    """Passes, or fails with ``error``; counts its calls."""

    def __init__(self, name: str, error: str | None = None) -> None:
        self.name = name
        self.error = error
        self.calls = 0

    async def check(self) -> None:
        self.calls += 1
        if self.error is not None:
            raise ConnectionError(self.error)


class HangingProbe:
    """Never answers, like a server that accepts connections and then stalls."""

    name = "stalled"

    async def check(self) -> None:
        await asyncio.sleep(60)


def use_probes(app: FastAPI, *probes: Probe) -> None:
    def probe_list() -> Sequence[Probe]:
        return probes

    app.dependency_overrides[get_probes] = probe_list


async def test_live_is_ok(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_live_stays_ok_while_a_component_is_down(app: FastAPI, client: AsyncClient) -> None:
    use_probes(app, StaticProbe("database", error="connection refused"))

    assert (await client.get("/health/live")).status_code == 200


async def test_ready_without_components_is_ok(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_ready_runs_every_probe(app: FastAPI, client: AsyncClient) -> None:
    first, second = StaticProbe("database"), StaticProbe("redis")
    use_probes(app, first, second)

    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
    }
    assert (first.calls, second.calls) == (1, 1)


async def test_ready_is_503_with_a_report_when_a_component_fails(
    app: FastAPI, client: AsyncClient
) -> None:
    use_probes(app, StaticProbe("database"), StaticProbe("redis", error="connection refused"))

    response = await client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["error"] is None
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["redis"]["error"] == "ConnectionError: connection refused"


async def test_ready_gives_up_on_a_stalled_component(app: FastAPI, client: AsyncClient) -> None:
    # The settings fixture allows each probe 0.5 s.
    use_probes(app, HangingProbe(), StaticProbe("database"))

    started = time.perf_counter()
    response = await client.get("/health/ready")

    assert time.perf_counter() - started < 5
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["stalled"] == {
        "status": "fail",
        "error": "no answer within 0.5s",
        "duration_ms": checks["stalled"]["duration_ms"],
    }
    assert checks["database"]["status"] == "ok"
