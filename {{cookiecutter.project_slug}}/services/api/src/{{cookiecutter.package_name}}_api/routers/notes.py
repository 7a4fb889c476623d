"""``/notes``: create, read and list notes."""

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from {{ cookiecutter.package_name }}_api.dependencies import NoteRepositoryDep
from {{ cookiecutter.package_name }}_api.notes import (
    PAGE_MAX_LIMIT,
    PAGE_MAX_OFFSET,
    Note,
    NoteCreate,
    NotePage,
)

router = APIRouter(prefix="/notes", tags=["notes"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_note(
    payload: NoteCreate, notes: NoteRepositoryDep, request: Request, response: Response
) -> Note:
    """Create a note; ``Location`` points at it."""
    note = await notes.add(payload)
    response.headers["Location"] = str(request.url_for("get_note", note_id=note.id))
    return note


@router.get("/{note_id}", responses={status.HTTP_404_NOT_FOUND: {"description": "No such note"}})
async def get_note(note_id: uuid.UUID, notes: NoteRepositoryDep) -> Note:
    """One note by id."""
    note = await notes.get(note_id)
    if note is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"note {note_id} not found")
    return note


@router.get("")
async def list_notes(
    notes: NoteRepositoryDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX_LIMIT, description="Page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=PAGE_MAX_OFFSET, description="Notes to skip")] = 0,
) -> NotePage:
    """Notes, newest first, one page at a time."""
    return await notes.page(limit=limit, offset=offset)
