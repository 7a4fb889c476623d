"""Configuration of the API, read from environment variables and an optional ``.env`` file.

Each field is read from the upper-case environment variable of the same name (``log_level`` from
``LOG_LEVEL``). Every field has a default that suits local development, so the service starts
without any configuration; deployments override values through the environment.
"""

{% if cookiecutter.use_embedding_model -%}
from pathlib import Path
{% endif -%}
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, {% if cookiecutter.__redis %}RedisDsn, {% endif %}ValidationError{% if cookiecutter.database == 'postgres' %}, field_validator{% endif %}
from pydantic_settings import BaseSettings, SettingsConfigDict
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Spellings of PostgreSQL URLs that other tools (docker images, Heroku, psql) commonly use; the
# service always talks through asyncpg, so they are rewritten to that driver.
_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
# The local development database (docker-compose.dev.yml): user, password and name alike.
_LOCAL_DB = "{{ cookiecutter.package_name }}"
{%- endif %}

Environment = Literal["development", "test", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Settings of the API service."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # An empty variable (`LOG_LEVEL=`) means "use the default", not "the empty string".
        env_ignore_empty=True,
        # The .env file is shared with other services and docker compose.
        extra="ignore",
    )

    app_name: str = "{{ cookiecutter.project_name }}"
    environment: Environment = "development"
    log_level: LogLevel = "INFO"
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
{%- if cookiecutter.database == 'postgres' %}

    database_url: str = f"postgresql+asyncpg://{_LOCAL_DB}:{_LOCAL_DB}@localhost:5432/{_LOCAL_DB}"
    database_pool_size: int = Field(default=5, ge=1, le=100)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    database_echo: bool = False
{%- endif %}
{%- if cookiecutter.__redis %}

    redis_url: RedisDsn = RedisDsn("redis://localhost:6379/0")
    redis_timeout_seconds: float = Field(default=2.0, gt=0)
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
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, value: str) -> str:
        try:
            url = make_url(value)
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
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)

    @property
    def database_url_for_logs(self) -> str:
        """DATABASE_URL with the password masked, safe to log or show."""
        return make_url(self.database_url).render_as_string(hide_password=True)
{%- endif %}


def load_settings() -> Settings:
    """Read the settings; exit with a readable message when a value is invalid.

    A process that cannot be configured should stop with the list of bad variables, not a
    traceback through pydantic internals.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(map(str, error['loc'])).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"Invalid configuration:\n{problems}") from None


def get_settings(request: Request) -> Settings:
    """FastAPI dependency: the settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
