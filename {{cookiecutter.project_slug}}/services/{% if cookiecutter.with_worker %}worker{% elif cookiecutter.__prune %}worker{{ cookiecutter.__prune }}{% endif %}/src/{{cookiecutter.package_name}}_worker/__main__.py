"""Run the worker until stopped: ``python -m {{ cookiecutter.package_name }}_worker`` (what the image runs)."""

import logging

from arq.worker import run_worker

from {{ cookiecutter.package_name }}_worker.main import WorkerSettings, create_redis, settings


def main() -> None:
    """Run the worker (blocking); on SIGTERM running jobs finish, then it stops."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_worker(WorkerSettings, redis_pool=create_redis(settings))


if __name__ == "__main__":
    main()
