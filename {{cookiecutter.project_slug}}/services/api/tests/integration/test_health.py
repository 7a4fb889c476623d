"""Health checks of the started application against the real servers."""

{% if cookiecutter.database == 'postgres' or cookiecutter.__redis -%}
import socket
from collections.abc import Callable

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from {{ cookiecutter.package_name }}_api.settings import Settings
{%- else -%}
from httpx import AsyncClient
{%- endif %}
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis or cookiecutter.use_embedding_model %}

COMPONENTS = {
{%- if cookiecutter.database == 'postgres' %}
    "database",
{%- endif %}
{%- if cookiecutter.use_embedding_model %}
    "embedding_model",
{%- endif %}
{%- if cookiecutter.__redis %}
    "redis",
{%- endif %}
}
{%- else %}

# No database, cache or model: readiness has no component to check.
COMPONENTS: set[str] = set()
{%- endif %}


async def test_live(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_every_component(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == COMPONENTS
    assert all(check["status"] == "ok" for check in body["checks"].values())
{%- if cookiecutter.database == 'postgres' or cookiecutter.__redis %}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_server_that_is_down_fails_readiness_while_live_stays_200(
    settings: Settings, make_app: Callable[[Settings], FastAPI]
) -> None:
    port = closed_port()
    down = settings.model_copy(
        update={
{%- if cookiecutter.database == 'postgres' %}
            "database_url": SecretStr(f"postgresql+asyncpg://app:secret@127.0.0.1:{port}/app"),
            "database_connect_timeout_seconds": 1,
{%- else %}
            "redis_url": SecretStr(f"redis://127.0.0.1:{port}/0"),
            "cache_timeout_seconds": 0.5,
{%- endif %}
        }
    )
    app = make_app(down)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")

    assert live.status_code == 200
{%- if cookiecutter.database == 'postgres' or cookiecutter.with_worker %}
    assert ready.status_code == 503
{%- else %}
    # Only the cache is down: the instance serves notes without it, so it stays ready.
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
{%- endif %}
    failed = {name for name, check in ready.json()["checks"].items() if check["status"] == "fail"}
{%- if cookiecutter.database == 'postgres' %}
    assert failed == {"database"}
{%- else %}
    assert failed == {"redis"}
{%- endif %}
{%- endif %}
