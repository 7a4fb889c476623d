"""Request limits and error bodies: 413 before a large body is read, 422s that never echo input."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}_api.handlers import MAX_REPORTED_ERRORS
from {{ cookiecutter.package_name }}_api.notes import InMemoryNoteRepository
from {{ cookiecutter.package_name }}_api.settings import Settings

LIMIT = 2048


@pytest.fixture
def settings() -> Settings:
    """A small body limit, so the tests stay small too."""
    return Settings(_env_file=None, environment="test", max_request_body_bytes=LIMIT)


async def chunked(total: int) -> AsyncIterator[bytes]:
    """``total`` bytes without a Content-Length."""
    for _ in range(total // 512):
        yield b" " * 512


async def test_a_body_announced_over_the_limit_is_413(
    client: AsyncClient, notes: InMemoryNoteRepository
) -> None:
    response = await client.post(
        "/notes", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert (await notes.page(limit=10, offset=0)).total == 0


async def test_a_chunked_body_that_grows_over_the_limit_is_413(client: AsyncClient) -> None:
    response = await client.post(
        "/notes", content=chunked(4 * LIMIT), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_a_bad_content_length_is_413(client: AsyncClient) -> None:
    headers = {"content-type": "application/json", "content-length": "-1"}
    response = await client.post("/notes", content=b"{}", headers=headers)

    assert response.status_code == 413


async def test_a_body_within_the_limit_is_served(client: AsyncClient) -> None:
    response = await client.post("/notes", json={"title": "t", "body": "x" * (LIMIT // 2)})

    assert response.status_code == 201


async def test_validation_errors_name_the_field_but_never_echo_the_input(
    client: AsyncClient,
) -> None:
    secret = "sk-live-do-not-echo"
    response = await client.post("/notes", json={"title": secret * 20, "colour": secret})

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [["body", "title"], ["body", "colour"]]
    assert all(set(error) == {"loc", "msg", "type"} for error in errors)
    assert secret not in response.text


async def test_many_errors_give_a_short_answer(client: AsyncClient) -> None:
    unknown = {f"field{index}": index for index in range(100)}
    response = await client.post("/notes", json={"title": "t", **unknown})

    assert response.status_code == 422
    body = response.json()
    assert len(body["detail"]) == MAX_REPORTED_ERRORS
    assert body["more_errors"] == 100 - MAX_REPORTED_ERRORS
    assert len(response.content) < 4096


async def test_a_nul_character_is_a_422_not_a_database_error(client: AsyncClient) -> None:
    response = await client.post("/notes", json={"title": "a\x00b"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "title"]
    assert "NUL" in error["msg"]


@pytest.mark.parametrize("params", [{"offset": 10_001}, {"limit": 101}, {"limit": 10**30}])
async def test_pages_are_bounded(client: AsyncClient, params: dict[str, int]) -> None:
    response = await client.get("/notes", params=params)

    assert response.status_code == 422
