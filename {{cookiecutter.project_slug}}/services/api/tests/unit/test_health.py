import asyncio
import time
from collections.abc import Sequence

from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}_api.dependencies import get_probes
from {{ cookiecutter.package_name }}_api.health import Probe, ProbeFailedError


class StaticProbe:
    """Passes, or fails with ``error``; counts its calls."""

    def __init__(self, name: str, error: str | None = None, *, required: bool = True) -> None:
        self.name = name
        self.error = error
        self.required = required
        self.calls = 0

    async def check(self) -> None:
        self.calls += 1
        if self.error is not None:
            raise ConnectionError(self.error)


class HangingProbe:
    """Never answers, like a server that accepts connections and then stalls."""

    name = "stalled"
    required = True

    async def check(self) -> None:
        await asyncio.sleep(60)


class NotMigratedProbe:
    """Fails with a known reason of its own."""

    name = "database"
    required = True

    async def check(self) -> None:
        raise ProbeFailedError("not migrated", "missing table(s) notes on db.internal:5432")


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
    first, second = StaticProbe("database"), StaticProbe("redis", required=False)
    use_probes(app, first, second)

    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
    }
    assert (body["checks"]["database"]["required"], body["checks"]["redis"]["required"]) == (
        True,
        False,
    )
    assert (first.calls, second.calls) == (1, 1)


async def test_ready_is_503_when_a_required_component_fails(
    app: FastAPI, client: AsyncClient
) -> None:
    use_probes(app, StaticProbe("database", error="connection refused to 10.0.0.5:5432"))

    response = await client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    check = body["checks"]["database"]
    assert (check["status"], check["reason"]) == ("fail", "unavailable")
    # The driver's words (hosts, ports, exception names) stay in the log.
    assert "10.0.0.5" not in response.text
    assert "ConnectionError" not in response.text


async def test_ready_is_200_degraded_when_only_an_optional_component_fails(
    app: FastAPI, client: AsyncClient
) -> None:
    use_probes(
        app,
        StaticProbe("database"),
        StaticProbe("redis", error="connection refused", required=False),
    )

    response = await client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"


async def test_a_probe_reason_is_reported_but_not_its_cause(
    app: FastAPI, client: AsyncClient
) -> None:
    use_probes(app, NotMigratedProbe())

    response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["database"]["reason"] == "not migrated"
    assert "db.internal" not in response.text


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
        "required": True,
        "reason": "timeout",
        "duration_ms": checks["stalled"]["duration_ms"],
    }
    assert checks["database"]["status"] == "ok"
