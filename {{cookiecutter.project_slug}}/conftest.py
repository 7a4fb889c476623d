"""Fixtures shared by the test tiers of every service: their one home, never copied per service.

Test tiers and where their fixtures live:

* ``services/<service>/tests/unit``: external dependencies faked; each service's own conftest.
* ``services/<service>/tests/integration``: the real application
  {%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %} on real servers{% endif %}, never
  fakes; the shared fixtures below, plus each service's own conftest.
* ``tests/e2e``: the running system over HTTP; ``tests/e2e/conftest.py``.
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}

The servers are the ones the service itself would use:
{%- if cookiecutter.database == 'postgres' %} ``DATABASE_URL``{% endif %}
{%- if cookiecutter.database == 'postgres' and cookiecutter.__redis %} and{% endif %}
{%- if cookiecutter.__redis %} ``REDIS_URL``{% endif %} from the
environment (or ``.env``), else the settings' defaults, which point at the servers that
``make services-up`` starts from ``docker-compose.dev.yml``. A server that cannot be reached
stops the whole run at once with one line naming it (password masked) and how to start it: never
a skip, so a green run always means the tests really ran against it.
{%- if cookiecutter.database == 'postgres' %}

Database tests run inside a transaction that is rolled back afterwards (``db_connection``), so
they leave nothing behind, even in a developer's own database.
{%- endif %}
{%- if cookiecutter.__redis %}

``clean_redis`` empties the Redis database (FLUSHDB) before each test that uses it: point
``REDIS_URL`` at a database number of its own (``redis://localhost:6379/1``) to keep a
development cache apart.
{%- endif %}
{%- endif %}
"""

{% if cookiecutter.database == 'postgres' -%}
import asyncio
{% endif -%}
{% if cookiecutter.database == 'postgres' or cookiecutter.__redis -%}
import os
from collections.abc import AsyncIterator
{% endif -%}
from typing import NoReturn

import pytest
{%- if cookiecutter.__redis %}
import redis
from redis.asyncio import Redis
{%- endif %}
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import URL, NullPool, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
{%- endif %}

{% if cookiecutter.database == 'postgres' or cookiecutter.__redis -%}
from {{ cookiecutter.package_name }}_api.errors import describe
{% endif -%}
{% if cookiecutter.database == 'postgres' -%}
from {{ cookiecutter.package_name }}_api.migrate import upgrade
{% endif -%}
from {{ cookiecutter.package_name }}_api.settings import Settings, load_settings

# Exit status of a run stopped for want of a server or a setting (pytest's "usage error").
NOT_READY = pytest.ExitCode.USAGE_ERROR
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
CONNECT_TIMEOUT_SECONDS = 5
{%- endif %}

TIERS = ("integration", "e2e", "faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier, taken from its path: ``-m "not e2e"`` selects by tier."""
    for item in items:
        for tier in TIERS:
            if tier in item.path.parts:
                item.add_marker(tier)


def stop_run(message: str) -> NoReturn:
    """End the whole test session now with ``message``: one clear line instead of N errors."""
    pytest.exit(message, returncode=NOT_READY)
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}


def where_from(variable: str) -> str:
    """Say where a server URL came from."""
    if os.environ.get(variable):
        return f"from {variable}"
    return f"{variable} not set: from .env or the default"


def how_to_start(variable: str) -> str:
    """What to do about a server that is down."""
    return (
        "Start the development servers with `make services-up` (Docker), "
        f"or set {variable} to a running server."
    )
{%- endif %}


@pytest.fixture(scope="session")
def service_settings() -> Settings:
    """The api's settings, read as the service reads them: environment, then ``.env``."""
    try:
        return load_settings()
    except SystemExit as exc:  # invalid values: the message lists them
        stop_run(str(exc.code))
{%- if cookiecutter.database == 'postgres' %}


async def _ping_database(url: URL) -> None:
    engine = create_async_engine(
        url, poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_url(service_settings: Settings) -> str:
    """``DATABASE_URL`` of a PostgreSQL that answers; stops the run when none does."""
    try:
        asyncio.run(_ping_database(service_settings.database_dsn))
    except Exception as exc:  # noqa: BLE001 -- whatever the reason, the run cannot go on
        reason = describe(exc).rstrip(".")
        stop_run(
            f"PostgreSQL is not reachable at {service_settings.database_url_for_logs} "
            f"({where_from('DATABASE_URL')}): {reason}. {how_to_start('DATABASE_URL')}"
        )
    return service_settings.database_dsn.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_database(database_url: str, service_settings: Settings) -> str:
    """The database brought to the newest migration once per run, as ``make migrate`` does."""
    try:
        upgrade(service_settings)
    except Exception as exc:  # noqa: BLE001 -- reported once, not as an error of every test
        stop_run(
            f"The migrations failed on {service_settings.database_url_for_logs}: {describe(exc)}. "
            "Run `make migrate` to see the whole error."
        )
    return database_url


@pytest.fixture
async def db_connection(migrated_database: str) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test.

    Whatever the test writes, through this connection or through ``db_sessions``, is gone
    afterwards; tests never see each other's rows.
    """
    engine = create_async_engine(migrated_database, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                yield connection
            finally:
                if transaction.is_active:
                    await transaction.rollback()
    finally:
        await engine.dispose()


@pytest.fixture
def db_sessions(db_connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection (SQLAlchemy 2's "join an external transaction").

    Each session transaction is a SAVEPOINT inside the test's transaction: code under test may
    commit or roll back as usual, and the final rollback still removes everything.
    """
    return async_sessionmaker(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
{%- endif %}
{%- if cookiecutter.__redis %}


@pytest.fixture(scope="session")
def redis_url(service_settings: Settings) -> str:
    """``REDIS_URL`` of a Redis that answers; stops the run when none does."""
    url = service_settings.redis_url.get_secret_value()
    client = redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        stop_run(
            f"Redis is not reachable at {service_settings.redis_url_for_logs} "
            f"({where_from('REDIS_URL')}): "
            f"{describe(exc).rstrip('.')}. {how_to_start('REDIS_URL')}"
        )
    finally:
        client.close()
    return url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test Redis, as it is: nothing is deleted (safe on a shared server)."""
    client: Redis = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def clean_redis(redis_client: Redis) -> Redis:
    """The test Redis database, emptied (FLUSHDB) before the test: no state from earlier ones."""
    await redis_client.flushdb()
    return redis_client
{%- endif %}
