"""Unit-test fixtures: arq on fakeredis, so jobs really run without a Redis server."""

from collections.abc import AsyncIterator

import arq.worker
import fakeredis
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, create_worker

from {{ cookiecutter.package_name }}_core.jobs import deserialize, serialize
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings
from {{ cookiecutter.package_name }}_worker.settings import Settings


@pytest.fixture(autouse=True)
def no_configuration_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore settings in the environment (a CI job's or a container's), so tests see defaults."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
async def queue() -> AsyncIterator[ArqRedis]:
    """An arq client on an in-memory Redis, with the shared JSON serializer."""
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    pool = ArqRedis(redis.connection_pool, job_serializer=serialize, job_deserializer=deserialize)
    yield pool
    await pool.aclose()


@pytest.fixture
def worker(queue: ArqRedis, monkeypatch: pytest.MonkeyPatch) -> Worker:
    """The configured worker in burst mode: it runs every queued job, then returns."""

    async def no_server_info(*_args: object) -> None:
        """fakeredis has no INFO command, which arq only logs at startup."""

    monkeypatch.setattr(arq.worker, "log_redis_info", no_server_info)
    # Not closed afterwards: Worker.close() would close the `queue` fixture's pool, with a
    # redis-py call arq still makes although it is deprecated. The fixture closes the pool.
    return create_worker(
        WorkerSettings, redis_pool=queue, burst=True, poll_delay=0, handle_signals=False
    )
