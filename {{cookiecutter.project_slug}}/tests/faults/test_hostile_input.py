"""Hostile and broken requests against the running api: answered at once with a 4xx whose body is
short and never repeats the input, and nothing is stored.

Each request carries a marker that must not come back in the answer (the handlers never echo the
input) and must not end up in a stored note.
"""

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.conftest import SLACK_SECONDS, Figures, deadline, timed

MAX_BODY = int(deadline("MAX_REQUEST_BODY_BYTES"))
# An answer to a bad request is a few hundred bytes, whatever was sent.
MAX_ANSWER_BYTES = 4096


def chunks(total: int, size: int = 16_384) -> Iterator[bytes]:
    """A body of ``total`` bytes sent without a length (chunked)."""
    for start in range(0, total, size):
        yield b" " * min(size, total - start)


def raw(text: str) -> dict[str, object]:
    """Request arguments for a body sent as it is, declared as JSON."""
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


def cases(marker: str) -> list[tuple[str, dict[str, object], set[int]]]:
    """(name, httpx request arguments, acceptable statuses) for each hostile request."""
    title = f"{marker} title"
    start = '{"title": ' + json.dumps(title)  # an object left open, for the bodies below
    return [
        ("oversized body (announced)", raw("x" * (MAX_BODY + 1)), {413}),
        ("oversized body (chunked)", {**raw(""), "content": chunks(4 * MAX_BODY)}, {413}),
        ("malformed JSON", raw(start), {422}),
        ("deeply nested JSON", raw("[" * (MAX_BODY - 10)), {400, 422}),
        (
            "bytes that are not UTF-8",
            {**raw(""), "content": start.encode() + b"\xff\xfe"},
            {400, 422},
        ),
        ("NUL character in text", {"json": {"title": f"{title}\x00"}}, {422}),
        ("huge number", raw(start + ', "body": 1e999999}'), {422}),
        ("number with 5000 digits", raw(start + ', "body": ' + "9" * 5000 + "}"), {400, 422}),
        ("unknown field", {"json": {"title": title, "owner_id": marker}}, {422}),
        ("wrong type", {"json": {"title": [title] * 1000}}, {422}),
        (
            "too many tags",
            {"json": {"title": title, "tags": [f"t{i}" for i in range(1000)]}},
            {422},
        ),
    ]


CASE_NAMES = [name for name, _, _ in cases("x")]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_hostile_request_is_refused_briefly_and_stores_nothing(
    client: httpx.Client, figures: Figures, case: str
) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    _, request, statuses = next(entry for entry in cases(marker) if entry[0] == case)

    seconds, response = timed(lambda: client.post("/notes", **request))  # type: ignore[arg-type]

    assert response.status_code in statuses, response.text[:500]
    assert len(response.content) <= MAX_ANSWER_BYTES
    assert marker not in response.text
    assert seconds <= SLACK_SECONDS
    figures.add(f"hostile: {case}", "POST notes", response.status_code, seconds)
    listed = client.get("/notes", params={"limit": 100}).json()["items"]
    assert not [note for note in listed if marker in json.dumps(note)]


@pytest.mark.parametrize(
    "params", [{"limit": 10**30}, {"limit": 0}, {"offset": -1}, {"offset": 10**9}, {"limit": "x"}]
)
def test_out_of_range_pages_are_refused(client: httpx.Client, params: dict[str, object]) -> None:
    response = client.get("/notes", params=params)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert len(response.content) <= MAX_ANSWER_BYTES
    assert all("input" not in error for error in response.json()["detail"])
