"""The settings every service shares, and how a service reads its own.

Each field is read from the upper-case environment variable of the same name (``log_level``
from ``LOG_LEVEL``), or from a ``.env`` file in the working directory. A service's settings class
derives from :class:`ServiceSettings` and adds its own fields.
"""

from typing import {% if cookiecutter.__redis %}Annotated, {% endif %}Literal{% if cookiecutter.python_version == '3.11' %}, TypeVar{% endif %}
{%- if cookiecutter.__redis %}
from urllib.parse import urlsplit
{%- endif %}

from pydantic import {% if cookiecutter.__redis %}AfterValidator, {% endif %}Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# "auto": JSON lines where no terminal reads the output (containers, CI, log files), readable
# text in a terminal.
LogFormat = Literal["auto", "json", "console"]
# Where a missing secret is an error rather than a development default.
DEPLOYED: frozenset[Environment] = frozenset({"staging", "production"})
{%- if cookiecutter.__redis %}
_REDIS_SCHEMES = {"redis", "rediss", "unix"}


def _redis_scheme(value: SecretStr) -> SecretStr:
    scheme = urlsplit(value.get_secret_value()).scheme
    if scheme not in _REDIS_SCHEMES:
        msg = f"must be a redis://, rediss:// or unix:// URL, not {scheme or '?'}://"
        raise ValueError(msg)
    return value


# redis://[:PASSWORD@]HOST:PORT/DB (a password with special characters percent-encoded), a secret
# that never appears in a repr or a log line; the services that use Redis share it.
RedisUrl = Annotated[SecretStr, AfterValidator(_redis_scheme)]
{%- endif %}
{%- if cookiecutter.python_version == '3.11' %}

S = TypeVar("S", bound="ServiceSettings")
{%- endif %}


class ServiceSettings(BaseSettings):
    """Settings of every service: where it runs, how it logs, where its metrics and traces go."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # An empty variable (`LOG_LEVEL=`) means "use the default", not "the empty string".
        env_ignore_empty=True,
        # The .env file is shared by the services and docker compose.
        extra="ignore",
    )

    environment: Environment = "development"
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "auto"
    # Prometheus metrics on a port of their own, never the public one; port 0 turns them off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=8001, ge=0, le=65535)
    # Traces are exported (OTLP/HTTP) when one of these standard variables is set; the
    # OpenTelemetry SDK reads them, and the other OTEL_* ones, itself.
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    # Errors are reported to Sentry when this is set.
    sentry_dsn: SecretStr | None = None

    @property
    def tracing_enabled(self) -> bool:
        """Whether an OTLP endpoint is configured."""
        return bool(self.otel_exporter_otlp_endpoint or self.otel_exporter_otlp_traces_endpoint)


def load_settings{% if cookiecutter.python_version != '3.11' %}[S: ServiceSettings]{% endif %}(settings_class: type[S]) -> S:
    """Read the settings; exit with a readable message when a value is invalid or missing.

    A process that cannot be configured should stop with the list of bad variables, not a
    traceback through pydantic internals. The messages never contain a value (secrets stay out).
    """
    try:
        return settings_class()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(map(str, error['loc'])).upper() or 'settings'}: "
            + error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise SystemExit(f"Invalid configuration:\n{problems}") from None
