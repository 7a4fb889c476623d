"""Configuration of the worker, read from environment variables and an optional ``.env`` file.

The worker shares ``REDIS_URL`` and ``LOG_LEVEL`` with the API; its own settings start with
``WORKER_`` or ``JOB_``.
"""

from typing import Literal

from pydantic import Field, RedisDsn, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Settings of the worker service."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        # The .env file is shared with the API and docker compose.
        extra="ignore",
    )

    log_level: LogLevel = "INFO"
    redis_url: RedisDsn = RedisDsn("redis://localhost:6379/0")
    # Jobs run concurrently on one event loop; CPU-heavy jobs want fewer, I/O-bound ones more.
    worker_max_jobs: int = Field(default=10, ge=1)
    job_timeout_seconds: int = Field(default=300, gt=0)
    # How long a result stays readable through the API's GET /jobs/{id}.
    job_keep_result_seconds: int = Field(default=3600, gt=0)
    job_max_tries: int = Field(default=3, ge=1)


def load_settings() -> Settings:
    """Read the settings; exit with a readable message when a value is invalid."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(map(str, error['loc'])).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"Invalid configuration:\n{problems}") from None
