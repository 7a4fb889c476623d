"""The notes resource through the running system: round trips and rejected requests.

The system may be shared (E2E_BASE_URL) and hold other notes, so the tests look for their own
notes rather than counting on an empty store.
"""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient


async def test_create_read_and_list_round_trip(client: AsyncClient) -> None:
    title = f"e2e {uuid.uuid4()}"

    created = await client.post(
        "/notes", json={"title": title, "body": "from the e2e tests", "tags": ["E2E", "smoke"]}
    )

    assert created.status_code == 201, created.text
    note = created.json()
    assert note["tags"] == ["e2e", "smoke"]
    fetched = await client.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == note
    listed = await client.get("/notes", params={"limit": 100})
    assert listed.status_code == 200
    assert note in listed.json()["items"]


async def test_unknown_note_is_404(client: AsyncClient) -> None:
    missing = uuid.uuid4()

    response = await client.get(f"/notes/{missing}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"note {missing} not found"}


@pytest.mark.parametrize(
    ("payload", "location", "message"),
    [
        ({"body": "no title"}, ["body", "title"], "Field required"),
        ({"title": "  "}, ["body", "title"], "String should have at least 1 character"),
        ({"title": "x" * 201}, ["body", "title"], "String should have at most 200 characters"),
        ({"title": 42}, ["body", "title"], "Input should be a valid string"),
        ({"title": "ok", "tags": "one"}, ["body", "tags"], "Input should be a valid list"),
        ({"title": "ok", "extra": 1}, ["body", "extra"], "Extra inputs are not permitted"),
    ],
)
async def test_bad_notes_are_rejected_with_the_field(
    client: AsyncClient, payload: dict[str, Any], location: list[str], message: str
) -> None:
    response = await client.post("/notes", json=payload)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == location
    assert error["msg"] == message


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("/notes?limit=0", ["query", "limit"]),
        ("/notes?limit=101", ["query", "limit"]),
        ("/notes?offset=-1", ["query", "offset"]),
        ("/notes/not-a-uuid", ["path", "note_id"]),
    ],
)
async def test_bad_reads_are_rejected_with_the_field(
    client: AsyncClient, url: str, location: list[str]
) -> None:
    response = await client.get(url)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [location]


async def test_a_rejected_note_is_not_stored(client: AsyncClient) -> None:
    title = f"rejected {uuid.uuid4()}"

    response = await client.post("/notes", json={"title": title, "tags": ["fine", "not fine"]})

    assert response.status_code == 422
    listed = (await client.get("/notes", params={"limit": 100})).json()["items"]
    assert title not in {note["title"] for note in listed}
