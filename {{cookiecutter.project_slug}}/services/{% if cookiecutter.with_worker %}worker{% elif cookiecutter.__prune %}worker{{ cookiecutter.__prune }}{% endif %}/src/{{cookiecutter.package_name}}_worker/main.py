"""arq entry point: the worker's functions, Redis connection and limits.

Run it with
    python -m {{ cookiecutter.package_name }}_worker
(which also sets up logging and the Redis client with its deadlines), or with arq's own
command line:
    arq {{ cookiecutter.package_name }}_worker.main.WorkerSettings

Importing this module reads the configuration (and exits with a readable message when it is
invalid) but connects nothing.

Delivery is arq's: at least once. A job leaves the queue only when it has finished. On SIGTERM
the worker takes no new job and gives running ones ``JOB_TIMEOUT_SECONDS`` to finish; one still
running then is cancelled and put back (arq's ``retry_jobs``), and a worker that dies outright
leaves its jobs to be picked up again once their in-progress mark expires (the job timeout plus
10 s). A job may therefore run more than once: keep jobs idempotent.
"""

import logging
from collections.abc import Sequence
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function, func
from redis.asyncio import ConnectionPool
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from {{ cookiecutter.package_name }}_core.jobs import WORD_COUNT, deserialize, serialize
from {{ cookiecutter.package_name }}_worker.jobs import word_count
from {{ cookiecutter.package_name }}_worker.settings import Settings, load_settings

logger = logging.getLogger(__name__)

settings = load_settings()


def redis_settings_of(settings: Settings) -> RedisSettings:
    """Where the queue is, in arq's terms (used by ``arq --check`` and arq's command line)."""
    return RedisSettings.from_dsn(settings.redis_url.get_secret_value())


def create_redis(settings: Settings) -> ArqRedis:
    """The worker's Redis client: a deadline on every command, a few retries on a lost one.

    arq's own client has no command deadline, so a Redis that stalls would hang the worker for
    good; with this one the worker stops (exit 1) and its supervisor restarts it.
    """
    pool = ConnectionPool(
        socket_connect_timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), retries=3),
        max_connections=settings.worker_max_jobs + 5,
        **parse_url(settings.redis_url.get_secret_value()),
    )
    client = ArqRedis(pool, job_serializer=serialize, job_deserializer=deserialize)
    client.auto_close_connection_pool = True
    return client


async def startup(ctx: dict[str, Any]) -> None:
    """Runs once before the first job; open shared clients here and keep them in ``ctx``."""
    logger.info("worker started, queue on %s", settings.redis_host)


async def shutdown(ctx: dict[str, Any]) -> None:
    """Runs once after the last job; close what :func:`startup` opened."""
    logger.info("worker stopped")


class WorkerSettings:
    """What arq reads to build the worker (class attributes, by arq's convention)."""

    functions: Sequence[Function | WorkerCoroutine] = (
        func(word_count, name=WORD_COUNT.name, max_tries=settings.job_max_tries),
    )
    # Periodic jobs go here: arq.cron(function, minute=..., ...).
    cron_jobs: Sequence[CronJob] | None = None
    redis_settings = redis_settings_of(settings)
    job_serializer = serialize
    job_deserializer = deserialize
    max_jobs = settings.worker_max_jobs
    job_timeout = settings.job_timeout_seconds
    # On SIGTERM: finish running jobs (up to their timeout) before stopping.
    job_completion_wait = settings.job_timeout_seconds
    keep_result = settings.job_keep_result_seconds
    health_check_interval = settings.worker_health_check_interval_seconds
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
