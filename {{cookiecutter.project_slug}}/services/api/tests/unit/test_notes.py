import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}_api.dependencies import get_note_repository
from {{ cookiecutter.package_name }}_api.errors import ServiceUnavailableError
from {{ cookiecutter.package_name }}_api.notes import Note, NoteCreate, NotePage


class UnavailableRepository:
    """Storage that is down."""

    async def add(self, data: NoteCreate) -> Note:
        raise ServiceUnavailableError("database", "database unavailable")

    async def get(self, note_id: uuid.UUID) -> Note | None:
        raise ServiceUnavailableError("database", "database unavailable")

    async def page(self, *, limit: int, offset: int) -> NotePage:
        raise ServiceUnavailableError("database", "database unavailable")


async def create(client: AsyncClient, title: str, body: str = "") -> dict[str, Any]:
    response = await client.post("/notes", json={"title": title, "body": body})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


async def test_create_returns_the_note_and_its_location(client: AsyncClient) -> None:
    response = await client.post("/notes", json={"title": "  Groceries  ", "body": "milk"})

    assert response.status_code == 201
    note = response.json()
    assert note["title"] == "Groceries"  # surrounding whitespace is stripped
    assert note["body"] == "milk"
    assert uuid.UUID(note["id"]).version == 4
    assert note["created_at"].endswith(("Z", "+00:00"))
    assert response.headers["location"] == f"http://test/notes/{note['id']}"


async def test_tags_are_normalised(client: AsyncClient) -> None:
    response = await client.post(
        "/notes", json={"title": "Plan", "tags": [" Work ", "urgent", "work", "URGENT"]}
    )

    assert response.status_code == 201
    assert response.json()["tags"] == ["urgent", "work"]


async def test_tags_default_to_none(client: AsyncClient) -> None:
    note = await create(client, "untagged")

    assert note["tags"] == []


async def test_get_returns_a_created_note(client: AsyncClient) -> None:
    created = await create(client, "Groceries", "milk")

    response = await client.get(f"/notes/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_note_is_404(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    response = await client.get(f"/notes/{missing}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"note {missing} not found"}


async def test_get_with_malformed_id_is_422(client: AsyncClient) -> None:
    response = await client.get("/notes/not-a-uuid")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "note_id"]
    assert error["msg"].startswith("Input should be a valid UUID")


async def test_list_is_paged_newest_first(client: AsyncClient) -> None:
    for title in ("first", "second", "third"):
        await create(client, title)

    first_page = (await client.get("/notes", params={"limit": 2})).json()
    second_page = (await client.get("/notes", params={"limit": 2, "offset": 2})).json()

    assert [note["title"] for note in first_page["items"]] == ["third", "second"]
    assert (first_page["total"], first_page["limit"], first_page["offset"]) == (3, 2, 0)
    assert [note["title"] for note in second_page["items"]] == ["first"]
    assert second_page["total"] == 3


async def test_list_of_nothing_is_an_empty_page(client: AsyncClient) -> None:
    response = await client.get("/notes")

    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "limit", "Input should be greater than or equal to 1"),
        ({"limit": 101}, "limit", "Input should be less than or equal to 100"),
        ({"limit": "ten"}, "limit", "Input should be a valid integer"),
        ({"offset": -1}, "offset", "Input should be greater than or equal to 0"),
    ],
)
async def test_list_rejects_bad_paging(
    client: AsyncClient, params: dict[str, Any], field: str, message: str
) -> None:
    response = await client.get("/notes", params=params)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert error["msg"].startswith(message)


@pytest.mark.parametrize(
    ("payload", "location", "message"),
    [
        ({}, ["body", "title"], "Field required"),
        ({"title": "   "}, ["body", "title"], "String should have at least 1 character"),
        ({"title": "x" * 201}, ["body", "title"], "String should have at most 200 characters"),
        ({"title": 42}, ["body", "title"], "Input should be a valid string"),
        ({"title": "ok", "body": 7}, ["body", "body"], "Input should be a valid string"),
        (
            {"title": "ok", "body": "x" * 10_001},
            ["body", "body"],
            "String should have at most 10000 characters",
        ),
        ({"title": "ok", "tags": "work"}, ["body", "tags"], "Input should be a valid list"),
        (
            {"title": "ok", "tags": [""]},
            ["body", "tags", 0],
            "String should have at least 1 character",
        ),
        (
            {"title": "ok", "tags": ["ok", "two words"]},
            ["body", "tags", 1],
            "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_-]*$'",
        ),
        (
            {"title": "ok", "tags": ["x" * 51]},
            ["body", "tags", 0],
            "String should have at most 50 characters",
        ),
        (
            {"title": "ok", "tags": [f"t{i}" for i in range(11)]},
            ["body", "tags"],
            "List should have at most 10 items after validation, not 11",
        ),
        ({"title": "ok", "colour": "red"}, ["body", "colour"], "Extra inputs are not permitted"),
    ],
)
async def test_create_rejects_bad_input(
    client: AsyncClient, payload: dict[str, Any], location: list[str], message: str
) -> None:
    response = await client.post("/notes", json=payload)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == location
    assert error["msg"] == message


async def test_create_rejects_a_body_that_is_not_json(client: AsyncClient) -> None:
    response = await client.post(
        "/notes", content=b"title=x", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_storage_outage_is_503_not_a_traceback(app: FastAPI, client: AsyncClient) -> None:
    app.dependency_overrides[get_note_repository] = UnavailableRepository

    responses = [
        await client.post("/notes", json={"title": "x"}),
        await client.get(f"/notes/{uuid.uuid4()}"),
        await client.get("/notes"),
    ]

    for response in responses:
        assert response.status_code == 503
        assert response.json() == {"detail": "database unavailable", "component": "database"}
        assert response.headers["retry-after"] == "5"
