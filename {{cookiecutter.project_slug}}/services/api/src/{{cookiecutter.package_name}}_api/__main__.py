"""Serve the API: ``python -m {{ cookiecutter.package_name }}_api`` (what the image runs).

uvicorn with the serving settings (``HTTP_HOST``, ``HTTP_PORT``, ``WEB_CONCURRENCY``,
``FORWARDED_ALLOW_IPS``, ``SHUTDOWN_TIMEOUT_SECONDS`` and the limits; see ``settings.py``), and the
Prometheus metrics on ``METRICS_HOST:METRICS_PORT``. On SIGTERM uvicorn stops accepting
connections, lets the requests in flight finish for at most ``SHUTDOWN_TIMEOUT_SECONDS``, runs the
lifespan's shutdown (closing the pools) and exits.
"""

import uvicorn

from {{ cookiecutter.package_name }}_api.settings import SERVICE, load_settings
from {{ cookiecutter.package_name }}_core.logs import configure_logging
from {{ cookiecutter.package_name }}_core.metrics import prepare_multiprocess, serve_metrics


def main() -> None:
    """Serve the metrics, then run uvicorn until it is stopped (blocking)."""
    settings = load_settings()
    configure_logging(SERVICE, level=settings.log_level, fmt=settings.log_format)
    if settings.web_concurrency > 1 or settings.http_reload:
        # The app then runs in processes uvicorn spawns (workers, or the reloaded one): they
        # inherit the variable this sets, write their values to its directory, and this process
        # adds them up for each scrape.
        prepare_multiprocess()
    serve_metrics(settings.metrics_host, settings.metrics_port)
    uvicorn.run(
        # An import string, so that WEB_CONCURRENCY > 1 can start worker processes.
        "{{ cookiecutter.package_name }}_api.main:app",
        host=settings.http_host,
        port=settings.http_port,
        workers=settings.web_concurrency,
        reload=settings.http_reload,
        # Behind the proxy, the client's address and scheme come from its X-Forwarded-* headers.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=settings.max_concurrent_requests,
        server_header=False,
        # Logging is ours (one format for every line); the access log is RequestTelemetry's.
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
