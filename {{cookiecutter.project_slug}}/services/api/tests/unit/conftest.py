"""Unit-test fixtures: the real application with every external component replaced by a fake.

Nothing here needs a network or a server. The lifespan does not run (ASGITransport sends no
lifespan events); fakes are injected through ``app.dependency_overrides`` instead.
"""

import socket
from collections.abc import AsyncIterator, Sequence
{%- if cookiecutter.use_embedding_model %}
from dataclasses import dataclass
{%- endif %}

{% if cookiecutter.__redis -%}
import fakeredis
{% endif -%}
import pytest
{%- if cookiecutter.with_worker %}
from arq.connections import ArqRedis
{%- endif %}
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client import CollectorRegistry

from {{ cookiecutter.package_name }}_api.app import create_app
from {{ cookiecutter.package_name }}_api.dependencies import (
{%- if cookiecutter.use_embedding_model %}
    get_embedder,
{%- endif %}
{%- if cookiecutter.with_worker %}
    get_job_queue,
{%- endif %}
    get_note_repository,
    get_probes,
)
{%- if cookiecutter.use_embedding_model %}
from {{ cookiecutter.package_name }}_api.embedding import Embedder
{%- endif %}
from {{ cookiecutter.package_name }}_api.health import Probe
from {{ cookiecutter.package_name }}_api.notes import InMemoryNoteRepository
from {{ cookiecutter.package_name }}_api.settings import Settings
{%- if cookiecutter.with_worker %}
from {{ cookiecutter.package_name }}_core.jobs import deserialize, serialize
{%- endif %}
from {{ cookiecutter.package_name }}_core.metrics import Metrics
{%- if cookiecutter.use_embedding_model %}


@dataclass(frozen=True)
class FakeEmbedder:
    """A deterministic stand-in for the model.

    Component i of a text's vector is ``len(text) + i``, doubled when not normalised, so tests
    can tell which text and which flag produced a vector.
    """

    model_name: str = "fake/model"
    dimension: int = 4

    def embed(self, texts: Sequence[str], *, normalize: bool) -> list[list[float]]:
        scale = 1.0 if normalize else 2.0
        return [[scale * (len(text) + i) for i in range(self.dimension)] for text in texts]
{%- endif %}


@pytest.fixture(autouse=True)
def no_configuration_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore settings in the environment (a CI job's or a container's), so tests see defaults."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def metrics() -> Metrics:
    """The app's metrics, in a registry of this test's own."""
    return Metrics(CollectorRegistry())


@pytest.fixture
def settings() -> Settings:
    """Settings that never read the developer's .env file."""
    return Settings(_env_file=None, environment="test", readiness_timeout_seconds=0.5)


@pytest.fixture
def notes() -> InMemoryNoteRepository:
    return InMemoryNoteRepository()


@pytest.fixture
def probes() -> list[Probe]:
    """No components by default; readiness tests bring their own probes."""
    return []
{%- if cookiecutter.__redis %}


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    """One in-memory Redis server; set ``connected = False`` on it to simulate an outage."""
    return fakeredis.FakeServer()


@pytest.fixture
async def redis(redis_server: fakeredis.FakeServer) -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis(server=redis_server)
    yield client
    await client.aclose()
{%- endif %}
{%- if cookiecutter.use_embedding_model %}


@pytest.fixture
def embedder() -> Embedder:
    return FakeEmbedder()
{%- endif %}
{%- if cookiecutter.with_worker %}


@pytest.fixture
async def job_queue(redis: fakeredis.FakeAsyncRedis) -> AsyncIterator[ArqRedis]:
    """An arq client on fakeredis, with the API's real serializer."""
    queue = ArqRedis(redis.connection_pool, job_serializer=serialize, job_deserializer=deserialize)
    yield queue
    await queue.aclose()
{%- endif %}


@pytest.fixture
def app(
    settings: Settings,
    metrics: Metrics,
    notes: InMemoryNoteRepository,
    probes: list[Probe],
{%- if cookiecutter.use_embedding_model %}
    embedder: Embedder,
{%- endif %}
{%- if cookiecutter.with_worker %}
    job_queue: ArqRedis,
{%- endif %}
) -> FastAPI:
    """The real application; tests may replace further overrides."""
    app = create_app(settings, metrics=metrics)

    def probe_list() -> Sequence[Probe]:
        return probes

    app.dependency_overrides[get_note_repository] = lambda: notes
    app.dependency_overrides[get_probes] = probe_list
{%- if cookiecutter.use_embedding_model %}

    def loaded_embedder() -> Embedder:
        return embedder

    app.dependency_overrides[get_embedder] = loaded_embedder
{%- endif %}
{%- if cookiecutter.with_worker %}
    app.dependency_overrides[get_job_queue] = lambda: job_queue
{%- endif %}
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on: connecting fails at once, like a server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
