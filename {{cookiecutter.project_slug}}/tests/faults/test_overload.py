"""Many writers at once: each note is stored exactly once and no request fails{% if cookiecutter.database == 'postgres' %}, while the
connection pool holds its bound ({% raw %}``DATABASE_POOL_SIZE``{% endraw %} connections, however many requests wait){% endif %}.

The api here talks to the servers directly and gives each request :data:`BURST_DEADLINE` seconds:
the burst is load to absorb, not an outage, and its requests queue for the pool's connections.
"""

{% if cookiecutter.database == 'postgres' -%}
import asyncio
import time
{% endif -%}
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import create_async_engine
{%- endif %}

{% if cookiecutter.database == 'postgres' -%}
from tests.faults.conftest import Figures, StoredNotes, deadline, timed
{%- else -%}
from tests.faults.conftest import Figures, timed
{%- endif %}
from tests.harness.processes import (
    free_port,
    process_env,
    start_api,
    startup_timeout,
    wait_until_ready,
)

WRITERS = 64
# Room for the whole burst to queue for the pool on a busy machine (64 inserts take well under 1 s).
BURST_DEADLINE = 15
# This api's connections, told apart from the other processes' in pg_stat_activity.
APPLICATION_NAME = "{{ cookiecutter.project_slug }}-api-burst"
{%- if cookiecutter.database == 'postgres' %}
POOL_SIZE = int(deadline("DATABASE_POOL_SIZE"))


async def api_connections(url: str) -> int:
    """Connections the api holds open to PostgreSQL (they carry its application name)."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        return int(count or 0)
    finally:
        await engine.dispose()
{%- endif %}


@pytest.fixture(scope="module")
def base_url(
{%- if cookiecutter.database == 'postgres' %}
    migrated_database: str,
{%- endif %}
{%- if cookiecutter.__redis %}
    redis_url: str,
{%- endif %}
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """An api on the servers themselves (no proxy), with room for the burst."""
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}
    env = process_env(
        {
{%- if cookiecutter.database == 'postgres' %}
            "DATABASE_URL": migrated_database,
            "DATABASE_POOL_SIZE": str(POOL_SIZE),
            "DATABASE_APPLICATION_NAME": APPLICATION_NAME,
            "DATABASE_POOL_TIMEOUT_SECONDS": str(BURST_DEADLINE),
            "DATABASE_TIMEOUT_SECONDS": str(BURST_DEADLINE),
{%- endif %}
{%- if cookiecutter.__redis %}
            "REDIS_URL": redis_url,
{%- endif %}
        }
    )
{%- else %}
    env = process_env()
{%- endif %}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = start_api(tmp_path_factory.mktemp("overload"), env, port, name="api-under-load")
    try:
        wait_until_ready(url, [api], startup_timeout())
        yield url
    finally:
        api.stop()


def test_concurrent_writers_each_store_their_note_once(
    base_url: str,
{%- if cookiecutter.database == 'postgres' %}
    migrated_database: str,
    stored_notes: StoredNotes,
{%- endif %}
    figures: Figures,
) -> None:
    prefix = f"writer {uuid.uuid4()}"
    titles = [f"{prefix} {index:02d}" for index in range(WRITERS)]
{%- if cookiecutter.database == 'postgres' %}
    peak = 0
{%- endif %}

    def write(title: str) -> tuple[float, httpx.Response]:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            return timed(lambda: client.post("/notes", json={"title": title, "tags": ["load"]}))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        pending = [pool.submit(write, title) for title in titles]
{%- if cookiecutter.database == 'postgres' %}
        while not all(future.done() for future in pending):
            peak = max(peak, asyncio.run(api_connections(migrated_database)))
            time.sleep(0.05)
{%- endif %}
        results = [future.result() for future in pending]

    statuses = [response.status_code for _, response in results]
    assert statuses == [201] * WRITERS, statuses
    assert sorted(response.json()["title"] for _, response in results) == titles
{%- if cookiecutter.database == 'postgres' %}
    assert stored_notes(prefix) == {title: [1] for title in titles}
    assert 0 < peak <= POOL_SIZE, peak
{%- endif %}
    slowest = max(seconds for seconds, _ in results)
    figures.add(f"{WRITERS} concurrent writers", "POST notes (slowest)", 201, slowest)
