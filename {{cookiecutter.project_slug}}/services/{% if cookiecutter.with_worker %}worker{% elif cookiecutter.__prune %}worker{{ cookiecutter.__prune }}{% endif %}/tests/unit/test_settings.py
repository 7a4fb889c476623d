from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}_worker.main import WorkerSettings, redis_settings_of
from {{ cookiecutter.package_name }}_worker.settings import load_settings


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory, so a developer's .env cannot change the outcome."""
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()

    assert settings.redis_url.get_secret_value() == "redis://localhost:6379/0"
    assert settings.worker_max_jobs == 10


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@queue:6380/2")
    monkeypatch.setenv("WORKER_MAX_JOBS", "3")

    settings = load_settings()

    assert settings.redis_host == "queue"
    assert settings.worker_max_jobs == 3
    assert "s3cret" not in repr(settings)  # the password is a secret


def test_the_worker_finishes_running_jobs_on_sigterm_and_checks_in_often() -> None:
    assert WorkerSettings.job_completion_wait == WorkerSettings.job_timeout == 300
    assert WorkerSettings.health_check_interval == 10


def test_the_queue_location_carries_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:p%40ss@queue:6380/2")

    location = redis_settings_of(load_settings())

    assert (location.host, location.port, location.database) == ("queue", 6380, 2)


def test_invalid_values_stop_the_process_with_a_readable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://queue")
    monkeypatch.setenv("WORKER_MAX_JOBS", "0")

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    message = str(exit_info.value.code)
    assert message.startswith("Invalid configuration:")
    assert "REDIS_URL: must be a redis://, rediss:// or unix:// URL, not http://" in message
    assert "WORKER_MAX_JOBS: Input should be greater than or equal to 1" in message
