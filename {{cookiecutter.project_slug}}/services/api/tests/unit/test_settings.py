from pathlib import Path

import pytest
{%- if cookiecutter.database == 'postgres' %}
from pydantic import SecretStr
{%- endif %}

from {{ cookiecutter.package_name }}_api.settings import {% if cookiecutter.database == 'postgres' %}Settings, {% endif %}load_settings


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory, so a developer's .env cannot change the outcome."""
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()

    assert settings.log_level == "INFO"
    assert settings.app_name == "{{ cookiecutter.project_name }}"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("READINESS_TIMEOUT_SECONDS", "7.5")

    settings = load_settings()

    assert settings.log_level == "DEBUG"
    assert settings.readiness_timeout_seconds == 7.5


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=WARNING\n", encoding="utf-8")

    assert load_settings().log_level == "WARNING"


def test_invalid_values_stop_the_process_with_a_readable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    monkeypatch.setenv("READINESS_TIMEOUT_SECONDS", "-1")

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    message = str(exit_info.value.code)
    assert message.startswith("Invalid configuration:")
    assert "LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'" in message
    assert "READINESS_TIMEOUT_SECONDS: Input should be greater than 0" in message
    assert "Traceback" not in message
{%- if cookiecutter.database == 'postgres' %}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:secret@db:5432/app",
        "postgres://app:secret@db:5432/app",
        "postgresql+asyncpg://app:secret@db:5432/app",
    ],
)
def test_database_url_always_uses_asyncpg(url: str) -> None:
    settings = Settings(_env_file=None, database_url=SecretStr(url))

    assert settings.database_dsn.render_as_string(hide_password=False) == (
        "postgresql+asyncpg://app:secret@db:5432/app"
    )


def test_database_url_is_masked_for_logs_and_reprs() -> None:
    settings = Settings(_env_file=None, database_url=SecretStr("postgresql://app:secret@db/app"))

    assert settings.database_url_for_logs == "postgresql+asyncpg://app:***@db/app"
    assert "secret" not in repr(settings)
    assert "secret" not in str(settings.model_dump())


def test_database_password_replaces_the_urls_and_needs_no_quoting() -> None:
    settings = Settings(
        _env_file=None,
        database_url=SecretStr("postgresql://app@db:5432/app"),
        database_password=SecretStr("p@ss/w:rd"),
    )

    assert settings.database_dsn.password == "p@ss/w:rd"
    assert settings.database_url_for_logs == "postgresql+asyncpg://app:***@db:5432/app"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_a_deployed_service_without_a_database_password_does_not_start(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db:5432/app")

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    assert f"DATABASE_PASSWORD is required when ENVIRONMENT={environment}" in str(
        exit_info.value.code
    )


def test_the_pool_and_the_deadlines_have_their_documented_defaults() -> None:
    settings = load_settings()

    assert settings.database_pool_size == 10
    assert settings.database_pool_timeout_seconds == 2
    assert settings.database_timeout_seconds == 5


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://app:secret@db/app",
            "must be a PostgreSQL URL (postgresql+asyncpg://...), not mysql://",
        ),
        ("not a url", "DATABASE_URL is not a URL"),
        ("postgresql://app:secret@db:5432", "DATABASE_URL names no database"),
    ],
)
def test_bad_database_url_is_rejected_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    assert message in str(exit_info.value.code)
{%- endif %}
{%- if cookiecutter.__redis %}


def test_bad_redis_url_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "http://cache:6379")

    with pytest.raises(SystemExit) as exit_info:
        load_settings()

    assert "REDIS_URL: must be a redis://, rediss:// or unix:// URL, not http://" in str(
        exit_info.value.code
    )


def test_a_redis_password_stays_out_of_reprs_and_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@cache:6379/0")

    settings = load_settings()

    assert "s3cret" not in repr(settings)
    assert settings.redis_url_for_logs == "redis://:***@cache:6379/0"
{%- endif %}
{%- if cookiecutter.use_embedding_model %}


def test_model_defaults_to_the_chosen_name_and_no_path() -> None:
    settings = load_settings()

    assert settings.embedding_model_name == "{{ cookiecutter.embedding_model_name }}"
    assert settings.embedding_model_path is None


def test_empty_model_path_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # Compose files often pass `EMBEDDING_MODEL_PATH=` through; that must not mean "cwd".
    monkeypatch.setenv("EMBEDDING_MODEL_PATH", "")

    assert load_settings().embedding_model_path is None
{%- endif %}
