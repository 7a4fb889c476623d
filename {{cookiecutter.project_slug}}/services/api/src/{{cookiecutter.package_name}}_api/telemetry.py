"""What the api tells about each request: its id, its metrics, its access log line, its trace.

:class:`RequestTelemetry` wraps the whole application (it is the outermost middleware):

* the request id: a valid incoming ``X-Request-ID`` (letters, digits, ``.``, ``_``, ``:``, ``-``;
  at most 128) is kept, anything else is replaced by a new one; it is bound to every log line of
  the request{% if cookiecutter.with_worker %} and to the jobs it enqueues{% endif %}, and returned in ``X-Request-ID`` on every
  response, errors and 503s included;
* the metrics: requests by method, route template and status, their duration, and how many are in
  flight;
* one access log line per request (method, path, route, status, duration, client).

:func:`instrument` adds the OpenTelemetry instrumentations when tracing is on.
{%- if cookiecutter.database == 'postgres' %}
:func:`count_pool_use` keeps the database pool's gauges current.
{%- endif %}
"""

import logging
import re
import time
import uuid
from http import HTTPStatus

import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
{%- endif %}
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}_core.metrics import Metrics

HEADER = "x-request-id"
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Requests that matched no route share one label, so unknown paths cannot grow the metrics.
UNMATCHED = "unmatched"
# Probes come every few seconds from each orchestrator and load balancer: their successes are
# counted in the metrics only, their failures logged too.
QUIET_ROUTES = frozenset({"/health/live", "/health/ready"})

access_log = logging.getLogger("{{ cookiecutter.package_name }}_api.access")


def request_id_of(scope: Scope) -> str:
    """The id :class:`RequestTelemetry` gave this request ("-" outside one)."""
    request_id: str = scope.get("request_id", "-")
    return request_id


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER.encode():
            candidate = value.decode("latin-1")
            return candidate if _VALID_ID.fullmatch(candidate) else None
    return None


class RequestTelemetry:
    """ASGI middleware: request id, metrics and access log for every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id bound; record what happened, however it ended."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope["request_id"] = request_id
        status = 500  # what the client gets if the application raises
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                header = (HEADER.encode(), request_id.encode())
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        self.metrics.http_in_flight.inc()
        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            self.metrics.http_in_flight.dec()
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = scope["method"]
        self.metrics.http_requests.labels(method, template, str(status)).inc()
        self.metrics.http_duration.labels(method, template).observe(seconds)
        if template in QUIET_ROUTES and status < HTTPStatus.BAD_REQUEST:
            return
        client = scope.get("client")
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            scope["path"],
            status,
            seconds * 1000,
            extra={
                "request_id": request_id,
                "method": method,
                "path": scope["path"],
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": f"{client[0]}:{client[1]}" if client else None,
            },
        )


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    """Trace the app's requests{% if cookiecutter.__redis %}, Redis commands{% endif %} and outgoing HTTP (httpx) on ``provider``.

    Probe requests are left out: they would be most of the traces and say nothing.{% if cookiecutter.database == 'postgres' %} The database
    engine is instrumented where the lifespan creates it (``instrument_engine``).{% endif %}
    """
    # Imported here: without tracing these packages are never loaded.
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415
{%- if cookiecutter.__redis %}
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415
{%- endif %}

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/health/live,/health/ready"
    )
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
{%- if cookiecutter.__redis %}
    RedisInstrumentor().instrument(tracer_provider=provider)
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}


def count_pool_use(engine: AsyncEngine, metrics: Metrics, size: int) -> None:
    """Keep the pool gauges current: the connections it may hold, and those checked out now."""
    metrics.db_pool_size.set(size)

    def checked_out(*_: object) -> None:
        metrics.db_pool_in_use.inc()

    def checked_in(*_: object) -> None:
        metrics.db_pool_in_use.dec()

    event.listen(engine.sync_engine, "checkout", checked_out)
    event.listen(engine.sync_engine, "checkin", checked_in)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Trace the engine's statements on ``provider``."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor  # noqa: PLC0415

    # Its declared range stops below SQLAlchemy 2.1, which would make it do nothing; the events
    # it uses are unchanged in 2.1 (the e2e tier checks the statements' spans).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
{%- endif %}
