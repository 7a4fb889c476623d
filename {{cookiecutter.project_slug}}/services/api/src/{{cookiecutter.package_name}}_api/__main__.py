"""Serve the API: ``python -m {{ cookiecutter.package_name }}_api`` (what the image runs).

uvicorn with the serving settings (``HTTP_HOST``, ``HTTP_PORT``, ``WEB_CONCURRENCY``,
``FORWARDED_ALLOW_IPS``, ``SHUTDOWN_TIMEOUT_SECONDS`` and the limits; see ``settings.py``). On
SIGTERM uvicorn stops accepting connections, lets the requests in flight finish for at most
``SHUTDOWN_TIMEOUT_SECONDS``, runs the lifespan's shutdown (closing the pools) and exits 0.
"""

import uvicorn

from {{ cookiecutter.package_name }}_api.settings import load_settings


def main() -> None:
    """Run uvicorn until it is stopped (blocking)."""
    settings = load_settings()
    uvicorn.run(
        # An import string, so that WEB_CONCURRENCY > 1 can start worker processes.
        "{{ cookiecutter.package_name }}_api.main:app",
        host=settings.http_host,
        port=settings.http_port,
        workers=settings.web_concurrency,
        # Behind the proxy, the client's address and scheme come from its X-Forwarded-* headers.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=settings.max_concurrent_requests,
        server_header=False,
    )


if __name__ == "__main__":
    main()
