"""A process's logs, error reports and traces, set up in one call at start."""

import sentry_sdk
from opentelemetry.sdk.trace import TracerProvider

from {{ cookiecutter.package_name }}_core.logs import configure_logging
from {{ cookiecutter.package_name }}_core.settings import ServiceSettings
from {{ cookiecutter.package_name }}_core.tracing import configure_tracing


def setup_observability(service: str, settings: ServiceSettings) -> TracerProvider | None:
    """Configure logging, Sentry (when ``SENTRY_DSN`` is set) and tracing; the tracer provider.

    ``service`` is the name on every log line, span and error report (``{{ cookiecutter.project_slug }}-api``, ...).
    """
    configure_logging(service, level=settings.log_level, fmt=settings.log_format)
    if settings.sentry_dsn is not None:
        sentry_sdk.init(
            dsn=settings.sentry_dsn.get_secret_value(),
            environment=settings.environment,
            server_name=service,
            # Traces go to OpenTelemetry; Sentry gets the errors, without personal data.
            traces_sample_rate=0,
            send_default_pii=False,
        )
    return configure_tracing(service, settings)
