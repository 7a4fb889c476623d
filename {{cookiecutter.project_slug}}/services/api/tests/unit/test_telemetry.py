"""Request ids, metrics and access log lines of the real application, with its backends faked."""

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.package_name }}_api.dependencies import get_note_repository
from {{ cookiecutter.package_name }}_api.errors import ServiceUnavailableError
from {{ cookiecutter.package_name }}_api.notes import InMemoryNoteRepository, Note
from {{ cookiecutter.package_name }}_core.metrics import Metrics


class StalledRepository(InMemoryNoteRepository):
    """Every read times out, as a stalled database does."""

    async def get(self, note_id: uuid.UUID) -> Note | None:
        raise ServiceUnavailableError("database", "no answer within 5s", timed_out=True)


@pytest.fixture
async def unsafe_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that receives the 500 a bug produces, instead of the exception."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("incoming", ["abc-123", "0f1e2d3c4b5a", "trace:01.02_03"])
async def test_a_valid_incoming_request_id_is_kept(client: AsyncClient, incoming: str) -> None:
    response = await client.get("/health/live", headers={"x-request-id": incoming})

    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 129, "-leading", "semi;colon"])
async def test_an_invalid_incoming_request_id_is_replaced(
    client: AsyncClient, incoming: str
) -> None:
    response = await client.get("/health/live", headers={"x-request-id": incoming})

    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert len(generated) == 32


async def test_without_an_incoming_id_each_request_gets_its_own(client: AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_errors_and_503s_carry_the_request_id_and_are_counted(
    app: FastAPI, client: AsyncClient, metrics: Metrics
) -> None:
    app.dependency_overrides[get_note_repository] = StalledRepository
    headers = {"x-request-id": "req-503"}

    unavailable = await client.get(f"/notes/{uuid.uuid4()}", headers=headers)
    invalid = await client.post("/notes", json={}, headers={"x-request-id": "req-422"})

    assert unavailable.status_code == 503
    assert unavailable.headers["x-request-id"] == "req-503"
    assert invalid.headers["x-request-id"] == "req-422"
    value = metrics.registry.get_sample_value
    assert value("backend_failures_total", {"component": "database", "kind": "timeout"}) == 1
    note_route = {"method": "GET", "route": "/notes/{note_id}", "status": "503"}
    assert value("http_requests_total", note_route) == 1


async def test_a_bug_is_a_500_with_the_request_id_and_nothing_of_the_error(
    app: FastAPI, unsafe_client: AsyncClient, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        msg = "secret internals at db.internal:5432"
        raise RuntimeError(msg)

    with caplog.at_level(logging.ERROR):
        response = await unsafe_client.get("/boom", headers={"x-request-id": "req-500"})

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "request_id": "req-500"}
    assert response.headers["x-request-id"] == "req-500"
    assert "db.internal" not in response.text
    assert "RuntimeError: secret internals" in caplog.text  # the traceback, in the log
    labels = {"method": "GET", "route": "/boom", "status": "500"}
    assert metrics.registry.get_sample_value("http_requests_total", labels) == 1


async def test_requests_are_counted_by_route_template_not_by_path(
    client: AsyncClient, metrics: Metrics
) -> None:
    for _ in range(3):
        await client.get(f"/notes/{uuid.uuid4()}")
    await client.get("/no/such/path")

    value = metrics.registry.get_sample_value
    note = {"method": "GET", "route": "/notes/{note_id}"}
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value("http_requests_total", {**note, "status": "404"}) == 3
    assert value("http_requests_total", unmatched) == 1
    assert value("http_request_duration_seconds_count", note) == 3
    assert value("http_requests_in_flight") == 0


async def test_each_request_has_one_access_log_line(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="{{ cookiecutter.package_name }}_api.access"):
        await client.get("/notes?limit=5", headers={"x-request-id": "req-log"})

    [record] = [r for r in caplog.records if r.name == "{{ cookiecutter.package_name }}_api.access"]
    assert record.__dict__["request_id"] == "req-log"
    assert (record.__dict__["route"], record.__dict__["status"]) == ("/notes", 200)
    assert record.__dict__["path"] == "/notes"


async def test_probes_log_only_when_they_fail(
    app: FastAPI, client: AsyncClient, caplog: pytest.LogCaptureFixture, metrics: Metrics
) -> None:
    name = "{{ cookiecutter.package_name }}_api.access"
    with caplog.at_level(logging.INFO, logger=name):
        assert (await client.get("/health/live")).status_code == 200
        assert not [r for r in caplog.records if r.name == name]
        assert (await client.get("/nowhere")).status_code == 404  # any other route: logged
    [record] = [r for r in caplog.records if r.name == name]
    assert record.__dict__["status"] == 404
    live = {"method": "GET", "route": "/health/live", "status": "200"}
    assert metrics.registry.get_sample_value("http_requests_total", live) == 1
