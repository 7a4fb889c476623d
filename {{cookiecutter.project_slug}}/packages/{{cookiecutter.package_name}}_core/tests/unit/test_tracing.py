{% if cookiecutter.with_worker -%}
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

{% endif -%}
from {{ cookiecutter.package_name }}_core.settings import ServiceSettings
from {{ cookiecutter.package_name }}_core.tracing import configure_tracing{% if cookiecutter.with_worker %}, extracted_context, inject_context{% endif %}


def test_tracing_is_off_without_an_endpoint() -> None:
    settings = ServiceSettings(_env_file=None)

    assert not settings.tracing_enabled
    assert configure_tracing("svc", settings) is None


def test_either_standard_endpoint_turns_tracing_on() -> None:
    general = ServiceSettings(_env_file=None, otel_exporter_otlp_endpoint="http://127.0.0.1:4318")
    traces = ServiceSettings(
        _env_file=None, otel_exporter_otlp_traces_endpoint="http://127.0.0.1:4318/v1/traces"
    )

    assert general.tracing_enabled
    assert traces.tracing_enabled
    provider = configure_tracing("svc", general)
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "svc"
    provider.shutdown()
{%- if cookiecutter.with_worker %}


def test_a_context_carried_by_a_job_continues_the_trace(
    tracer: trace.Tracer, spans: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("request") as request:
        carried = inject_context()
    with tracer.start_as_current_span("job", context=extracted_context(carried)) as job:
        pass

    assert set(carried) >= {"traceparent"}
    assert job.get_span_context().trace_id == request.get_span_context().trace_id
    [finished_job] = [span for span in spans.get_finished_spans() if span.name == "job"]
    assert finished_job.parent is not None
    assert finished_job.parent.span_id == request.get_span_context().span_id


def test_no_context_starts_a_trace_of_its_own(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("job", context=extracted_context({})) as job:
        pass

    assert job.get_span_context().is_valid
{%- endif %}
