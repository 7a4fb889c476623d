from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}_worker.settings import load_settings


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory, so a developer's .env cannot change the outcome."""
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()

    assert str(settings.redis_url) == "redis://localhost:6379/0"
    assert settings.worker_max_jobs == 10


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://queue:6380/2")
    monkeypatch.setenv("WORKER_MAX_JOBS", "3")

    settings = load_settings()

    assert (settings.redis_url.host, settings.redis_url.port, settings.redis_url.path) == (
        "queue",
        6380,
        "/2",
    )
    assert settings.worker_max_jobs == 3


def test_invalid_values_stop_the_process_with_a_readable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://queue")
    monkeypatch.setenv("WORKER_MAX_JOBS", "0")

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    message = str(exit_info.value.code)
    assert message.startswith("Invalid configuration:")
    assert "REDIS_URL: URL scheme should be" in message
    assert "WORKER_MAX_JOBS: Input should be greater than or equal to 1" in message
