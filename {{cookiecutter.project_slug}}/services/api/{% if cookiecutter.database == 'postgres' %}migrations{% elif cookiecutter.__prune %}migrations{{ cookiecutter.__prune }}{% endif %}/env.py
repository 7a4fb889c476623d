"""Alembic environment: how migrations connect, and what autogenerate compares against.

The database URL comes from the service's settings (``DATABASE_URL``), never from alembic.ini.
Callers may pass, through ``config.attributes``:

* ``settings``: the settings to connect with (default: read from the environment);
* ``connection``: an open synchronous connection to run on (tests pass one inside a transaction
  that they roll back; Alembic then neither begins nor commits a transaction of its own).

Logging is configured from alembic.ini when the alembic command line reads it; ``python -m
{{ cookiecutter.package_name }}_api.migrate`` configures its own.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}_api.db import Base, create_engine
from {{ cookiecutter.package_name }}_api.settings import Settings, load_settings

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def settings() -> Settings:
    """The settings given by the caller, else those of the environment."""
    given: Settings | None = config.attributes.get("settings")
    return given if given is not None else load_settings()


def run_migrations_offline() -> None:
    """Write the SQL to standard output instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=settings().database_dsn,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on one connection, in one transaction (DDL is transactional here)."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Open an engine from the settings, migrate on one of its connections, close it."""
    engine = create_engine(settings(), bounded=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate on the caller's connection, or on a new one."""
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
