"""arq entry point: the worker's functions, Redis connection and limits.

Run it with
    python -m {{ cookiecutter.package_name }}_worker
(which also sets up logging), or with arq's own command line:
    arq {{ cookiecutter.package_name }}_worker.main.WorkerSettings

Importing this module reads the configuration (and exits with a readable message when it is
invalid) but connects nothing.
"""

import logging
from collections.abc import Sequence
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function, func

from {{ cookiecutter.package_name }}_worker.jobs import (
    WORD_COUNT_JOB,
    deserialize,
    serialize,
    word_count,
)
from {{ cookiecutter.package_name }}_worker.settings import load_settings

logger = logging.getLogger(__name__)

settings = load_settings()


async def startup(ctx: dict[str, Any]) -> None:
    """Runs once before the first job; open shared clients here and keep them in ``ctx``."""
    logger.info("worker started, queue on %s", settings.redis_url.host)


async def shutdown(ctx: dict[str, Any]) -> None:
    """Runs once after the last job; close what :func:`startup` opened."""
    logger.info("worker stopped")


class WorkerSettings:
    """What arq reads to build the worker (class attributes, by arq's convention)."""

    functions: Sequence[Function | WorkerCoroutine] = (
        func(word_count, name=WORD_COUNT_JOB, max_tries=settings.job_max_tries),
    )
    # Periodic jobs go here: arq.cron(function, minute=..., ...).
    cron_jobs: Sequence[CronJob] | None = None
    redis_settings = RedisSettings.from_dsn(str(settings.redis_url))
    job_serializer = serialize
    job_deserializer = deserialize
    max_jobs = settings.worker_max_jobs
    job_timeout = settings.job_timeout_seconds
    keep_result = settings.job_keep_result_seconds
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
