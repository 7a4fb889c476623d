"""The application factory and its lifespan, which opens and closes the backing components."""

{% if cookiecutter.use_embedding_model -%}
import asyncio
{% endif -%}
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from {{ cookiecutter.package_name }}_api import handlers
{% if cookiecutter.__redis -%}
from {{ cookiecutter.package_name }}_api.cache import (
    CachedNoteRepository,
    RedisProbe,
    create_redis,
)
{% endif -%}
{% if cookiecutter.database == 'postgres' -%}
from {{ cookiecutter.package_name }}_api.db import (
    DatabaseProbe,
    SqlNoteRepository,
    create_engine,
    create_session_factory,
)
{% endif -%}
{% if cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api.embedding import (
    ModelLoadError,
    ModelProbe,
    ModelSlot,
    load_embedder,
)
{% endif -%}
{% if cookiecutter.database == 'postgres' and cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api.errors import describe, finish_abandoned_work
{% elif cookiecutter.database == 'postgres' -%}
from {{ cookiecutter.package_name }}_api.errors import finish_abandoned_work
{% elif cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api.errors import describe
{% endif -%}
from {{ cookiecutter.package_name }}_api.health import Probe{% if cookiecutter.database == 'postgres' %}, run_probe{% endif %}
from {{ cookiecutter.package_name }}_api.limits import BodySizeLimit
from {{ cookiecutter.package_name }}_api.notes import (
{%- if cookiecutter.database != 'postgres' %}
    InMemoryNoteRepository,
{%- endif %}
    NoteRepository,
)
from {{ cookiecutter.package_name }}_api.routers import (
{%- if cookiecutter.use_embedding_model %}
    embeddings,
{%- endif %}
    health,
{%- if cookiecutter.with_worker %}
    jobs,
{%- endif %}
    notes,
)
from {{ cookiecutter.package_name }}_api.settings import Settings
from {{ cookiecutter.package_name }}_api.telemetry import {% if cookiecutter.database == 'postgres' %}(
    RequestTelemetry,
    count_pool_use,
    instrument,
    instrument_engine,
)
{%- else %}RequestTelemetry, instrument{% endif %}
from {{ cookiecutter.package_name }}_core.metrics import Metrics, process_metrics

logger = logging.getLogger(__name__)

DISTRIBUTION = "{{ cookiecutter.project_slug }}-api"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open every component before the first request and close them after the last.

    Nothing connects at import time or in :func:`create_app`. A component that is down at
    startup does not stop the service: ``/health/ready`` reports it (503) until it answers, and
    requests that need it get 503 meanwhile.
    """
    settings: Settings = app.state.settings
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
    metrics: Metrics = app.state.metrics
{%- endif %}
    probes: list[Probe] = []
    async with AsyncExitStack() as stack:
        # Callbacks run in reverse order at shutdown: this line is logged last.
        stack.callback(logger.info, "%s stopped", settings.app_name)
{%- if cookiecutter.database == 'postgres' %}
        engine = create_engine(settings)
        stack.push_async_callback(engine.dispose)
        count_pool_use(engine, metrics, settings.database_pool_size)
        if app.state.tracer_provider is not None:
            instrument_engine(engine, app.state.tracer_provider)
        # Runs before dispose: work given up at a deadline first finishes closing its connection.
        stack.push_async_callback(finish_abandoned_work)
        database = DatabaseProbe(engine)
        # Checked once now, for the log; readiness keeps checking. The tables come from the
        # migrations (`make migrate`); the service never creates them.
        startup_check = await run_probe(database, settings.readiness_timeout_seconds)
        if startup_check.status == "fail":
            logger.error(
                "database %s not ready at startup (%s); serving 503s until it is",
                settings.database_url_for_logs,
                startup_check.reason,
            )
        repository: NoteRepository = SqlNoteRepository(
            create_session_factory(engine), timeout_seconds=settings.database_timeout_seconds
        )
        probes.append(database)
{%- else %}
        # No database configured: notes live in this process only.
        repository: NoteRepository = InMemoryNoteRepository()
{%- endif %}
{%- if cookiecutter.__redis %}

        redis = create_redis(settings)
        stack.push_async_callback(redis.aclose)
        app.state.redis = redis
{%- if cookiecutter.with_worker %}
        app.state.job_queue = redis
{%- endif %}
        repository = CachedNoteRepository(
            repository,
            redis,
            ttl_seconds=settings.cache_ttl_seconds,
            timeout_seconds=settings.cache_timeout_seconds,
            cooldown_seconds=settings.cache_cooldown_seconds,
            metrics=metrics,
        )
        probes.append(RedisProbe(redis))
{%- endif %}
{%- if cookiecutter.use_embedding_model %}

        slot = ModelSlot()
        try:
            # Loading takes seconds and blocks: keep the event loop free meanwhile.
            slot.embedder = await asyncio.to_thread(load_embedder, settings)
        except Exception as exc:  # noqa: BLE001 -- reported by readiness and as 503, not fatal
            # ModelLoadError messages are written for people; anything else keeps its type.
            slot.error = str(exc) if isinstance(exc, ModelLoadError) else describe(exc)
            logger.error("embedding model not loaded: %s", slot.error)
        app.state.model = slot
        probes.append(ModelProbe(slot))
{%- endif %}

        app.state.notes = repository
        app.state.probes = probes
        logger.info("%s started (%s)", settings.app_name, settings.environment)
        yield


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def create_app(
    settings: Settings | None = None,
    *,
    metrics: Metrics | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the application. Cheap: reads settings, connects nothing (the lifespan does).

    ``metrics`` defaults to the process's (tests pass their own, on a registry of their own);
    ``tracer_provider``, when tracing is on, gets the app's requests and backend calls.
    """
    settings = settings or Settings()
    app = FastAPI(title=settings.app_name, version=_version(), lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics = metrics or process_metrics()
    app.state.tracer_provider = tracer_provider
    handlers.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_body_bytes)
    # Added last, so it is the outermost middleware: it sees every response, 413s included.
    app.add_middleware(RequestTelemetry, metrics=metrics)
    if tracer_provider is not None:
        instrument(app, tracer_provider)
    app.include_router(health.router)
    app.include_router(notes.router)
{%- if cookiecutter.use_embedding_model %}
    app.include_router(embeddings.router)
{%- endif %}
{%- if cookiecutter.with_worker %}
    app.include_router(jobs.router)
{%- endif %}
    return app
