"""Integration fixtures of the worker: the configured arq worker on a real Redis.

The Redis comes from the shared fixtures in the repository's root ``conftest.py``
(``REDIS_URL``, emptied before each test).
"""

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker, create_worker
from redis.asyncio import Redis

from {{ cookiecutter.package_name }}_core.jobs import deserialize, serialize
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings


@pytest.fixture
async def queue(redis_url: str, clean_redis: Redis) -> AsyncIterator[ArqRedis]:
    """An arq client of the test Redis, with the JSON serializer the API uses too."""
    pool = await create_pool(
        RedisSettings.from_dsn(redis_url), job_serializer=serialize, job_deserializer=deserialize
    )
    yield pool
    await pool.aclose()


@pytest.fixture
def worker(queue: ArqRedis) -> Worker:
    """The configured worker in burst mode: it runs every queued job, then returns."""
    # Not closed afterwards: Worker.close() would close the `queue` fixture's pool, with a
    # redis-py call arq still makes although it is deprecated. The fixture closes the pool.
    return create_worker(
        WorkerSettings, redis_pool=queue, burst=True, poll_delay=0, handle_signals=False
    )
