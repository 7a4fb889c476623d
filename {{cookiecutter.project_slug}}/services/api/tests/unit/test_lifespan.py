"""The real lifespan and wiring, with every server down (a closed local port).

The service must still start, never hang, report each outage through readiness and answer 503
where a request needs a missing component.
"""

{% if cookiecutter.database == 'postgres' -%}
import logging
{% endif -%}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
from pydantic import SecretStr
{%- endif %}

{% if cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api import app as app_module
{% endif -%}
from {{ cookiecutter.package_name }}_api.app import create_app
{%- if cookiecutter.use_embedding_model %}
from {{ cookiecutter.package_name }}_api.embedding import (
    Embedder,
    ModelLoadError,
)
{%- endif %}
from {{ cookiecutter.package_name }}_api.settings import Settings


def settings_with_servers_down(port: int) -> Settings:
    return Settings(
        _env_file=None,
        readiness_timeout_seconds=2,
{%- if cookiecutter.database == 'postgres' %}
        database_url=SecretStr(f"postgresql+asyncpg://app:secret@127.0.0.1:{port}/app"),
        database_connect_timeout_seconds=1,
{%- endif %}
{%- if cookiecutter.__redis %}
        redis_url=SecretStr(f"redis://127.0.0.1:{port}/0"),
{%- if cookiecutter.with_worker %}
        redis_timeout_seconds=0.5,
{%- endif %}
        cache_timeout_seconds=0.5,
{%- endif %}
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The app with its lifespan entered, and a client for it."""
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
{%- if cookiecutter.use_embedding_model %}
def app(monkeypatch: pytest.MonkeyPatch, closed_port: int, embedder: Embedder) -> FastAPI:
    """The real application, with a fake model."""
    monkeypatch.setattr(app_module, "load_embedder", lambda _settings: embedder)
{%- else %}
def app(closed_port: int) -> FastAPI:
    """The real application."""
{%- endif %}
    return create_app(settings_with_servers_down(closed_port))
{%- if cookiecutter.database == 'postgres' %}


async def test_database_down_at_startup_is_logged_and_gives_503s(
    app: FastAPI, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        async with running(app) as client:
            ready = await client.get("/health/ready")
            created = await client.post("/notes", json={"title": "x"})
            listed = await client.get("/notes")

    url = f"postgresql+asyncpg://app:***@127.0.0.1:{closed_port}/app"
    assert f"database {url} not ready at startup (unavailable)" in caplog.text
    assert "ConnectionRefusedError" in caplog.text  # the cause, in the log only
    assert "secret" not in caplog.text  # the password never reaches the logs
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["status"] == "fail"
    for response in (created, listed):
        assert response.status_code == 503
        assert response.json() == {"detail": "database unavailable", "component": "database"}
{%- else %}


async def test_notes_are_served_from_memory(app: FastAPI) -> None:
    async with running(app) as client:
        created = await client.post("/notes", json={"title": "kept in memory"})
        fetched = await client.get(f"/notes/{created.json()['id']}")
        listed = await client.get("/notes")

    assert created.status_code == 201
    assert fetched.status_code == 200
    assert fetched.json() == created.json()
    assert listed.json()["total"] == 1
{%- endif %}
{%- if cookiecutter.__redis %}


async def test_redis_outage_is_reported(app: FastAPI, closed_port: int) -> None:
    async with running(app) as client:
        ready = await client.get("/health/ready")

{%- if cookiecutter.database == 'postgres' or cookiecutter.with_worker %}
    assert ready.status_code == 503
{%- else %}
    # The cache is all that is missing: the instance still serves, so it stays ready.
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
{%- endif %}
    redis_check = ready.json()["checks"]["redis"]
    assert redis_check["status"] == "fail"
    assert redis_check["reason"] == "unavailable"
    assert f"127.0.0.1:{closed_port}" not in ready.text
{%- endif %}
{%- if cookiecutter.with_worker %}


async def test_job_queue_outage_gives_503(app: FastAPI) -> None:
    async with running(app) as client:
        response = await client.post("/jobs/word-count", json={"text": "one two"})

    assert response.status_code == 503
    assert response.json() == {"detail": "redis unavailable", "component": "redis"}
{%- endif %}
{%- if cookiecutter.use_embedding_model %}


async def test_loaded_model_is_ready_and_serves(app: FastAPI) -> None:
    async with running(app) as client:
        ready = await client.get("/health/ready")
        embedded = await client.post("/embeddings", json={"texts": ["hello"]})

    assert ready.json()["checks"]["embedding_model"]["status"] == "ok"
    assert embedded.status_code == 200
    assert embedded.json()["dimension"] == 4


async def test_model_that_fails_to_load_is_reported_not_fatal(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing_model(_settings: Settings) -> Embedder:
        raise ModelLoadError("EMBEDDING_MODEL_PATH=/models/x is not a directory")

    monkeypatch.setattr(app_module, "load_embedder", missing_model)

    async with running(app) as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        embedded = await client.post("/embeddings", json={"texts": ["hello"]})

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["embedding_model"]["reason"] == "not loaded"
    assert embedded.status_code == 503
    assert embedded.json() == {
        "detail": "embedding_model unavailable",
        "component": "embedding_model",
    }
{%- endif %}
