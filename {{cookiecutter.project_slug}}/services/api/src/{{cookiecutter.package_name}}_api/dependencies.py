"""FastAPI dependencies: the components the lifespan opened, handed to the routes.

Routes never reach for globals; they declare these dependencies, and tests replace them through
``app.dependency_overrides`` with in-memory fakes.
"""

from collections.abc import Sequence
from typing import Annotated

{% if cookiecutter.with_worker -%}
from arq.connections import ArqRedis
{% endif -%}
from fastapi import Depends, Request

{% if cookiecutter.use_embedding_model -%}
from {{ cookiecutter.package_name }}_api.embedding import Embedder, ModelSlot
from {{ cookiecutter.package_name }}_api.errors import ServiceUnavailableError
{% endif -%}
from {{ cookiecutter.package_name }}_api.health import Probe
from {{ cookiecutter.package_name }}_api.notes import NoteRepository


def get_note_repository(request: Request) -> NoteRepository:
    """The notes storage."""
    repository: NoteRepository = request.app.state.notes
    return repository


def get_probes(request: Request) -> Sequence[Probe]:
    """The readiness probes of every component this instance uses."""
    probes: Sequence[Probe] = request.app.state.probes
    return probes
{%- if cookiecutter.use_embedding_model %}


def get_embedder(request: Request) -> Embedder:
    """The loaded embedding model; 503 while it is not loaded."""
    slot: ModelSlot = request.app.state.model
    if slot.embedder is None:
        detail = f"embedding model not loaded: {slot.error}"
        raise ServiceUnavailableError("embedding_model", detail)
    return slot.embedder
{%- endif %}
{%- if cookiecutter.with_worker %}


def get_job_queue(request: Request) -> ArqRedis:
    """The arq client used to enqueue jobs and read their status."""
    queue: ArqRedis = request.app.state.job_queue
    return queue
{%- endif %}


NoteRepositoryDep = Annotated[NoteRepository, Depends(get_note_repository)]
ProbesDep = Annotated[Sequence[Probe], Depends(get_probes)]
{%- if cookiecutter.use_embedding_model %}
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
{%- endif %}
{%- if cookiecutter.with_worker %}
JobQueueDep = Annotated[ArqRedis, Depends(get_job_queue)]
{%- endif %}
