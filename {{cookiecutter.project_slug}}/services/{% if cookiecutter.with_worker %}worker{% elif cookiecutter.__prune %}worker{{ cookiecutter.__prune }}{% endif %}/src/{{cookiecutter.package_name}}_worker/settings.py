"""Configuration of the worker, read from environment variables and an optional ``.env`` file.

The worker shares ``REDIS_URL`` and the core settings (``LOG_LEVEL``, ``LOG_FORMAT``, metrics,
tracing, error reports) with the api; its own settings start with ``WORKER_`` or ``JOB_``.
Credentials are ``SecretStr`` values: they never appear in a ``repr``, a log line or an error.
"""

from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from {{ cookiecutter.package_name }}_core.settings import RedisUrl, ServiceSettings
from {{ cookiecutter.package_name }}_core.settings import load_settings as load_service_settings

# The name on the worker's log lines, spans and error reports.
SERVICE = "{{ cookiecutter.project_slug }}-worker"


class Settings(ServiceSettings):
    """Settings of the worker service."""

    # The api's metrics are on 8001; a worker beside it on one machine takes the next port.
    metrics_port: int = Field(default=8002, ge=0, le=65535)
    redis_url: RedisUrl = SecretStr("redis://localhost:6379/0")
    # Each Redis command's deadline. A Redis that stays stalled past a few of them stops the
    # worker (exit 1), for its supervisor to restart; a job it was running is run again.
    redis_timeout_seconds: float = Field(default=1.0, gt=0)
    # Jobs run concurrently on one event loop; CPU-heavy jobs want fewer, I/O-bound ones more.
    worker_max_jobs: int = Field(default=10, ge=1)
    # A job's time limit; on SIGTERM running jobs get this long to finish (compose's and
    # Kubernetes' grace periods are a little longer), then they are put back in the queue.
    job_timeout_seconds: int = Field(default=300, gt=0)
    # How long a result stays readable through the API's GET /jobs/{id}.
    job_keep_result_seconds: int = Field(default=3600, gt=0)
    job_max_tries: int = Field(default=3, ge=1)
    # How often the worker renews its health check key in Redis, which lives one second longer:
    # `arq --check` (the container's health check) fails that soon after the worker wedges.
    worker_health_check_interval_seconds: int = Field(default=10, ge=1, le=60)

    @property
    def redis_host(self) -> str:
        """The Redis server's host name (no credentials), for logs."""
        return urlsplit(self.redis_url.get_secret_value()).hostname or "localhost"


def load_settings() -> Settings:
    """The worker's settings; exits with the list of bad variables when one is invalid."""
    return load_service_settings(Settings)
