"""The notes resource over HTTP{% if cookiecutter.database == 'postgres' %}, stored in PostgreSQL{% endif %}: round trips and rejected requests."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
{%- if cookiecutter.database == 'postgres' %}
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
{%- endif %}


async def create(client: AsyncClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/notes", json=payload)
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


async def test_created_note_can_be_read_back(client: AsyncClient) -> None:
    response = await client.post(
        "/notes", json={"title": "Groceries", "body": "milk", "tags": ["home", "Shopping"]}
    )

    assert response.status_code == 201
    created = response.json()
    assert created["tags"] == ["home", "shopping"]
    fetched = await client.get(response.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_list_pages_newest_first(client: AsyncClient) -> None:
    for title in ("first", "second", "third"):
        await create(client, {"title": title})

    first = (await client.get("/notes", params={"limit": 2})).json()
    second = (await client.get("/notes", params={"limit": 2, "offset": 2})).json()

    assert [note["title"] for note in first["items"]] == ["third", "second"]
    assert [note["title"] for note in second["items"]] == ["first"]
    assert first["total"] == second["total"] == 3


async def test_unknown_note_is_404(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    response = await client.get(f"/notes/{missing}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"note {missing} not found"}


@pytest.mark.parametrize(
    ("payload", "location", "message"),
    [
        ({}, ["body", "title"], "Field required"),
        ({"title": ""}, ["body", "title"], "String should have at least 1 character"),
        ({"title": "x" * 201}, ["body", "title"], "String should have at most 200 characters"),
        ({"title": ["a"]}, ["body", "title"], "Input should be a valid string"),
        ({"title": "ok", "tags": ["ok", "no spaces"]}, ["body", "tags", 1], "String should match"),
    ],
)
async def test_bad_notes_are_rejected_and_nothing_is_stored(
    client: AsyncClient, payload: dict[str, Any], location: list[Any], message: str
) -> None:
    response = await client.post("/notes", json=payload)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == location
    assert error["msg"].startswith(message)
    assert (await client.get("/notes")).json()["total"] == 0


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/notes?limit=0", ["query", "limit"]),
        ("/notes?offset=-1", ["query", "offset"]),
        ("/notes?limit=many", ["query", "limit"]),
        ("/notes/not-a-uuid", ["path", "note_id"]),
    ],
)
async def test_bad_reads_are_rejected(client: AsyncClient, url: str, location: list[str]) -> None:
    response = await client.get(url)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [location]
{%- if cookiecutter.database == 'postgres' %}


async def test_note_and_tags_are_rows_in_the_database(
    client: AsyncClient, db_connection: AsyncConnection
) -> None:
    note = await create(client, {"title": "stored", "tags": ["b", "a"]})

    title = await db_connection.scalar(
        text("SELECT title FROM notes WHERE id = :id"), {"id": uuid.UUID(note["id"])}
    )
    tags = await db_connection.scalars(
        text("SELECT tag FROM note_tags WHERE note_id = :id ORDER BY tag"),
        {"id": uuid.UUID(note["id"])},
    )
    assert title == "stored"
    assert tags.all() == ["a", "b"]
{%- endif %}
