"""Health checks of the running system."""

from httpx import AsyncClient
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


async def test_ready_with_every_component(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert {name for name, check in checks.items() if check["status"] == "ok"} == COMPONENTS
