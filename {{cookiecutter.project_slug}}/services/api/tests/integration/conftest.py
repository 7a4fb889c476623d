"""Integration fixtures of the api: the real application, with its real lifespan.

Nothing is faked. Requests reach the application in-process through ASGI (``httpx``'s
ASGITransport), with the lifespan entered as a server would enter it, so failures show their
tracebacks here.
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %} The servers come from the shared fixtures in the repository's root
``conftest.py``.
{%- endif %}
{%- if cookiecutter.database == 'postgres' %} Notes are stored through the test's transaction
(``db_sessions``), which is rolled back after each test; readiness uses the application's own
engine.
{%- endif %}
{%- if cookiecutter.use_embedding_model %}

The embedding model is the real one, loaded once per run from ``EMBEDDING_MODEL_PATH`` (or by
name from the Hugging Face cache); a model that cannot be loaded stops the run with the reason.
{%- endif %}
"""

from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
from pydantic import SecretStr
{%- endif %}
{%- if cookiecutter.__redis %}
from redis.asyncio import Redis
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
{%- endif %}

{% if cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api import app as app_module
{% endif -%}
from {{ cookiecutter.package_name }}_api.app import create_app
{%- if cookiecutter.__redis and cookiecutter.database == 'postgres' %}
from {{ cookiecutter.package_name }}_api.cache import CachedNoteRepository
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}
from {{ cookiecutter.package_name }}_api.db import NoteRow, SqlNoteRepository
{%- endif %}
{%- if cookiecutter.use_embedding_model %}
from {{ cookiecutter.package_name }}_api.embedding import Embedder, ModelLoadError, load_embedder
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}
from {{ cookiecutter.package_name }}_api.notes import NoteRepository
{%- endif %}
from {{ cookiecutter.package_name }}_api.settings import Settings


@pytest.fixture
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
def settings(
{%- if cookiecutter.database == 'postgres' %}
    migrated_database: str,
{%- endif %}
{%- if cookiecutter.__redis %}
    redis_url: str,
{%- endif %}
) -> Settings:
{%- else %}
def settings() -> Settings:
{%- endif %}
    """The service's settings, pointed at the test servers."""
    return Settings(
        _env_file=None,
        environment="test",
        readiness_timeout_seconds=5,
{%- if cookiecutter.database == 'postgres' %}
        database_url=SecretStr(migrated_database),
{%- endif %}
{%- if cookiecutter.__redis %}
        redis_url=SecretStr(redis_url),
{%- endif %}
    )
{%- if cookiecutter.database == 'postgres' %}


@pytest.fixture(autouse=True)
async def no_notes(db_connection: AsyncConnection) -> None:
    """Start from empty tables, inside the test's transaction: the rollback brings rows back."""
    # note_tags rows go with their notes (ON DELETE CASCADE).
    await db_connection.execute(delete(NoteRow))
{%- endif %}
{%- if cookiecutter.use_embedding_model %}


@pytest.fixture(scope="session")
def embedder(service_settings: Settings) -> Embedder:
    """The real model, loaded once for the whole run (loading takes seconds)."""
    try:
        return load_embedder(service_settings)
    except ModelLoadError as exc:
        pytest.exit(
            f"{str(exc).rstrip('.')}. Set EMBEDDING_MODEL_PATH to a local copy of the model "
            "(with HF_HUB_OFFLINE=1 to forbid downloads).",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
{%- endif %}


@pytest.fixture
{%- if cookiecutter.use_embedding_model %}
def make_app(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Callable[[Settings], FastAPI]:
    """``create_app``, whose lifespan gets the model already loaded instead of loading it again."""
    monkeypatch.setattr(app_module, "load_embedder", lambda _settings: embedder)
    return create_app
{%- else %}
def make_app() -> Callable[[Settings], FastAPI]:
    """``create_app``: tests that need other settings build their own application."""
    return create_app
{%- endif %}


@pytest.fixture
async def app(
    settings: Settings,
    make_app: Callable[[Settings], FastAPI],
{%- if cookiecutter.database == 'postgres' %}
    db_sessions: async_sessionmaker[AsyncSession],
{%- endif %}
{%- if cookiecutter.__redis %}
    clean_redis: Redis,
{%- endif %}
) -> AsyncIterator[FastAPI]:
    """The application, started: its lifespan has opened every component."""
    app = make_app(settings)
    async with app.router.lifespan_context(app):
{%- if cookiecutter.database == 'postgres' %}
        # Same classes as the lifespan wires, on the test's transaction instead of a pool.
        notes: NoteRepository = SqlNoteRepository(
            db_sessions, timeout_seconds=settings.database_timeout_seconds
        )
{%- if cookiecutter.__redis %}
        notes = CachedNoteRepository(
            notes,
            app.state.redis,
            ttl_seconds=settings.cache_ttl_seconds,
            timeout_seconds=settings.cache_timeout_seconds,
            cooldown_seconds=settings.cache_cooldown_seconds,
            metrics=app.state.metrics,
        )
{%- endif %}
        app.state.notes = notes
{%- endif %}
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client of the started application."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client
