"""OpenTelemetry traces: exported over OTLP/HTTP when the standard variables say where to.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set; the
SDK then reads every other standard variable itself (``OTEL_SERVICE_NAME``,
``OTEL_TRACES_SAMPLER``, ``OTEL_EXPORTER_OTLP_HEADERS``, ...). The services instrument their own
libraries (FastAPI, SQLAlchemy, Redis, httpx) on the provider this returns.
{%- if cookiecutter.with_worker %}

A job carries the trace context of the request that enqueued it (:func:`inject_context`,
:func:`extracted_context`), so the worker's span for it joins the request's trace.
{%- endif %}
"""

import atexit
{%- if cookiecutter.with_worker %}
from collections.abc import Mapping
{%- endif %}

from opentelemetry import {% if cookiecutter.with_worker %}propagate, {% endif %}trace
{%- if cookiecutter.with_worker %}
from opentelemetry.context import Context
{%- endif %}
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from {{ cookiecutter.package_name }}_core.settings import ServiceSettings


def configure_tracing(service: str, settings: ServiceSettings) -> TracerProvider | None:
    """Install a tracer provider that exports to the OTLP endpoint; None when none is set.

    ``service`` names the spans' service unless ``OTEL_SERVICE_NAME`` says otherwise. Spans still
    buffered are sent when the process exits.
    """
    if not settings.tracing_enabled:
        return None
    # Resource.create() merges OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over these.
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)
    return provider
{%- if cookiecutter.with_worker %}


def inject_context() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``), for a job to carry."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extracted_context(carrier: Mapping[str, str]) -> Context:
    """The trace context a job carried: a worker's span started in it joins the request's trace."""
    return propagate.extract(dict(carrier))
{%- endif %}
