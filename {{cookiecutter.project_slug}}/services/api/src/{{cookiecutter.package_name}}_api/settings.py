"""Configuration of the API, read from environment variables and an optional ``.env`` file.

Each field is read from the upper-case environment variable of the same name (``http_port`` from
``HTTP_PORT``); the fields every service shares (logging, metrics, tracing, error reports) come
from the core package's ``ServiceSettings``. Every field has a default that suits local
development, so the service starts without any configuration; deployments override values
through the environment.

Every backend call has a deadline here (``*_timeout_seconds``): a backend that stalls is answered
within it (503, or served without the backend where it is optional), never waited on for good.
Credentials are ``SecretStr`` values: they never appear in a ``repr``, a log line or an error.
"""

{% if cookiecutter.use_embedding_model -%}
from pathlib import Path
{% endif -%}
from typing import Annotated{% if cookiecutter.database == 'postgres' %}, Self{% endif %}
{%- if cookiecutter.__redis %}
from urllib.parse import urlsplit, urlunsplit
{%- endif %}

from fastapi import Depends, Request
from pydantic import Field{% if cookiecutter.database == 'postgres' or cookiecutter.__redis %}, SecretStr{% endif %}{% if cookiecutter.database == 'postgres' %}, field_validator, model_validator{% endif %}
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
{%- endif %}

from {{ cookiecutter.package_name }}_core.settings import {% if cookiecutter.database == 'postgres' %}DEPLOYED, {% endif %}{% if cookiecutter.__redis %}RedisUrl, {% endif %}ServiceSettings
from {{ cookiecutter.package_name }}_core.settings import load_settings as load_service_settings
{%- if cookiecutter.database == 'postgres' %}

# Spellings of PostgreSQL URLs that other tools (docker images, Heroku, psql) commonly use; the
# service always talks through asyncpg, so they are rewritten to that driver.
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
# The local development database (docker-compose.dev.yml): user, password and name alike.
_LOCAL_DB = "{{ cookiecutter.package_name }}"
_APPLICATION_NAME = "{{ cookiecutter.project_slug }}-api"
{%- endif %}

# The name on the service's log lines, spans and error reports.
SERVICE = "{{ cookiecutter.project_slug }}-api"


class Settings(ServiceSettings):
    """Settings of the API service."""

    app_name: str = "{{ cookiecutter.project_name }}"
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    # Serving (``python -m {{ cookiecutter.package_name }}_api``); figures behind the defaults: README.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # uvicorn worker processes; one per container, scale out with replicas.
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # Development only: restart on code changes (docker-compose.dev.yml sets it).
    http_reload: bool = False
    # Proxies whose X-Forwarded-For/-Proto are trusted ("*": any, where only a proxy can connect).
    forwarded_allow_ips: str = "127.0.0.1"
    # On SIGTERM: stop accepting, let in-flight requests finish for at most this long, then exit.
    shutdown_timeout_seconds: int = Field(default=20, ge=1, le=600)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=300)
    # Requests served at once per process; past it uvicorn answers 503 at once instead of queueing.
    max_concurrent_requests: int = Field(default=1000, ge=1)
    # Request bodies larger than this are refused with 413 before they are read.
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024)
{%- if cookiecutter.database == 'postgres' %}

    # postgresql+asyncpg://USER[:PASSWORD]@HOST:PORT/DB; DATABASE_PASSWORD, when set, replaces the
    # URL's password, so a password with any characters needs no URL quoting.
    database_url: SecretStr = SecretStr(
        f"postgresql+asyncpg://{_LOCAL_DB}:{_LOCAL_DB}@localhost:5432/{_LOCAL_DB}"
    )
    database_password: SecretStr | None = None
    # Connections per process: exactly this many, never more (no overflow).
    database_pool_size: int = Field(default=10, ge=1, le=100)
    # How long a request waits for a free connection before its 503.
    database_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    database_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    # The deadline of one request's database work; also PostgreSQL's statement_timeout.
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    database_echo: bool = False
    # How the service's connections are named in pg_stat_activity.
    database_application_name: str = _APPLICATION_NAME
{%- endif %}
{%- if cookiecutter.__redis %}

    redis_url: RedisUrl = SecretStr("redis://localhost:6379/0")
    # Connections per process, shared by {% if cookiecutter.with_worker %}the job queue and {% endif %}the cache.
    redis_max_connections: int = Field(default=20, ge=1, le=1000)
{%- if cookiecutter.with_worker %}
    # The deadline of one job queue call (enqueue, status), connecting included.
    redis_timeout_seconds: float = Field(default=1.0, gt=0)
{%- endif %}
    # The cache's deadline: past it a read or write gives up and the database answers instead.
    cache_timeout_seconds: float = Field(default=0.25, gt=0)
    # After a cache failure, skip the cache this long before trying it again.
    cache_cooldown_seconds: float = Field(default=5.0, ge=0)
    cache_ttl_seconds: int = Field(default=300, gt=0)
{%- endif %}
{%- if cookiecutter.use_embedding_model %}

    embedding_model_name: str = "{{ cookiecutter.embedding_model_name }}"
    # A local directory holding the model (the production stack mounts the model volume there).
    # Unset: load EMBEDDING_MODEL_NAME through the Hugging Face cache, which downloads it unless
    # HF_HUB_OFFLINE=1 (read by huggingface_hub itself).
    embedding_model_path: Path | None = None
    # None lets sentence-transformers pick (CUDA when available, else CPU).
    embedding_device: str | None = None
    # The deadline of one embedding request, waiting for the model included.
    embedding_timeout_seconds: float = Field(default=10.0, gt=0)
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, value: SecretStr) -> SecretStr:
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            msg = "DATABASE_URL is not a URL; expected postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB"
            raise ValueError(msg) from None
        if url.drivername not in _POSTGRES_SCHEMES:
            msg = (
                "DATABASE_URL must be a PostgreSQL URL (postgresql+asyncpg://...), "
                f"not {url.drivername}://"
            )
            raise ValueError(msg)
        if not url.database:
            msg = "DATABASE_URL names no database; add it as the path: postgresql+asyncpg://.../DB"
            raise ValueError(msg)
        return SecretStr(
            url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        )

    @model_validator(mode="after")
    def _deployed_database_has_a_password(self) -> Self:
        if self.environment in DEPLOYED and self.database_dsn.password is None:
            msg = (
                f"DATABASE_PASSWORD is required when ENVIRONMENT={self.environment} "
                "(or give the password in DATABASE_URL)"
            )
            raise ValueError(msg)
        return self

    @property
    def database_dsn(self) -> URL:
        """The database URL with its password, as an object: never formatted into a string."""
        url = make_url(self.database_url.get_secret_value())
        if self.database_password is not None:
            url = url.set(password=self.database_password.get_secret_value())
        return url

    @property
    def database_url_for_logs(self) -> str:
        """DATABASE_URL with the password masked, safe to log or show."""
        return self.database_dsn.render_as_string(hide_password=True)
{%- endif %}
{%- if cookiecutter.__redis %}

    @property
    def redis_url_for_logs(self) -> str:
        """REDIS_URL with any password masked, safe to log or show."""
        parts = urlsplit(self.redis_url.get_secret_value())
        if parts.password is None:
            return parts.geturl()
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{netloc}"))
{%- endif %}


def load_settings() -> Settings:
    """The api's settings; exits with the list of bad variables when one is invalid or missing."""
    return load_service_settings(Settings)


def get_settings(request: Request) -> Settings:
    """FastAPI dependency: the settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
