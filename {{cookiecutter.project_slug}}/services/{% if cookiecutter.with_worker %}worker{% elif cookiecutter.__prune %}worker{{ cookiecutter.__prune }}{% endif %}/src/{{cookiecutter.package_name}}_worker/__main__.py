"""Run the worker until stopped, with logging configured: ``python -m <package>``."""

import logging

from arq.worker import run_worker

from {{ cookiecutter.package_name }}_worker.main import WorkerSettings, settings


def main() -> None:
    """Run the worker (blocking); SIGINT/SIGTERM finish running jobs, then stop."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_worker(WorkerSettings)


if __name__ == "__main__":
    main()
