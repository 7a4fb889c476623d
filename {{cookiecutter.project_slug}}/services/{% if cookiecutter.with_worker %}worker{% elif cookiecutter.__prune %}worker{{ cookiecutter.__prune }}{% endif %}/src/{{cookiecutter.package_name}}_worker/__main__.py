"""Run the worker until stopped: ``python -m {{ cookiecutter.package_name }}_worker`` (what the image runs)."""

from arq.worker import run_worker

from {{ cookiecutter.package_name }}_core.metrics import serve_metrics
from {{ cookiecutter.package_name }}_core.observability import setup_observability
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings, create_redis, settings
from {{ cookiecutter.package_name }}_worker.settings import SERVICE


def main() -> None:
    """Set up logs, traces and metrics, then run the worker (blocking) until SIGTERM."""
    provider = setup_observability(SERVICE, settings)
    if provider is not None:
        # Imported only with tracing on.
        from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

        RedisInstrumentor().instrument(tracer_provider=provider)
    serve_metrics(settings.metrics_host, settings.metrics_port)
    # On SIGTERM running jobs finish (see main.py), then it stops.
    run_worker(WorkerSettings, redis_pool=create_redis(settings))


if __name__ == "__main__":
    main()
