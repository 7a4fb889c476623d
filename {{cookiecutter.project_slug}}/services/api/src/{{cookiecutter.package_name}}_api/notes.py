"""The notes resource: schemas, the storage protocol and an in-memory store.

Routes depend on :class:`NoteRepository` only, so the storage behind them can change without
touching them.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from {{ cookiecutter.package_name }}_core.text import Text

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 10_000
TAG_MAX_LENGTH = 50
TAGS_MAX = 10
PAGE_MAX_LIMIT = 100
# Deep offsets make the database skip that many rows on every page: past this, filter instead.
PAGE_MAX_OFFSET = 10_000

# A tag is a short label of letters, digits, "-" and "_", starting with a letter or digit; it is
# stored lower-cased.
Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=1,
        max_length=TAG_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
    ),
]


class NoteCreate(BaseModel):
    """The body of ``POST /notes``."""

    # Unknown fields are an error, not silently dropped: a typo in a field name should be loud.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Text = Field(min_length=1, max_length=TITLE_MAX_LENGTH)
    body: Text = Field(default="", max_length=BODY_MAX_LENGTH)
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=TAGS_MAX,
        description="Labels; lower-cased, duplicates dropped, stored sorted",
    )

    @field_validator("tags")
    @classmethod
    def _unique_and_sorted(cls, tags: list[str]) -> list[str]:
        return sorted(set(tags))


class Note(BaseModel):
    """A stored note."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    created_at: datetime


class NotePage(BaseModel):
    """One page of notes, newest first."""

    items: list[Note]
    total: int
    limit: int
    offset: int


class NoteRepository(Protocol):
    """Storage of notes. Implementations raise ServiceUnavailableError when storage is down."""

    async def add(self, data: NoteCreate) -> Note:
        """Store a new note and return it with its id and creation time."""
        ...

    async def get(self, note_id: uuid.UUID) -> Note | None:
        """The note with this id, or None."""
        ...

    async def page(self, *, limit: int, offset: int) -> NotePage:
        """Notes ordered newest first, skipping ``offset`` and returning at most ``limit``."""
        ...


def new_note(data: NoteCreate) -> Note:
    """A note with a fresh random id, created now (UTC)."""
    return Note(
        id=uuid.uuid4(),
        title=data.title,
        body=data.body,
        tags=list(data.tags),
        created_at=datetime.now(UTC),
    )


class InMemoryNoteRepository:
    """Notes kept in process memory: lost on restart and not shared between processes.

    Used {% if cookiecutter.database == 'postgres' %}as the fast fake in unit tests{% else %}when the project has no database, and in unit tests{% endif %}.
    """

    def __init__(self) -> None:
        # No lock needed: every method runs without awaiting, so on the event loop each one is
        # atomic with respect to the others.
        self._notes: dict[uuid.UUID, Note] = {}

    async def add(self, data: NoteCreate) -> Note:
        """Store a new note."""
        note = new_note(data)
        self._notes[note.id] = note
        return note

    async def get(self, note_id: uuid.UUID) -> Note | None:
        """The note with this id, or None."""
        return self._notes.get(note_id)

    async def page(self, *, limit: int, offset: int) -> NotePage:
        """Notes newest first."""
        # Dicts keep insertion order, which is creation order: exact even for equal timestamps.
        ordered = list(reversed(self._notes.values()))
        return NotePage(
            items=ordered[offset : offset + limit], total=len(ordered), limit=limit, offset=offset
        )
