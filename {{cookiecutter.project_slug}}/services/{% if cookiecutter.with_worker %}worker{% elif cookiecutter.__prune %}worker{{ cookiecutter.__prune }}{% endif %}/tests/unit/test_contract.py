"""The job contract, end to end without servers: what the api enqueues is what the worker runs.

The api's real endpoint enqueues on an in-memory Redis; the worker's real functions run the
queue. A change to one side that the other does not follow fails here, before any deployment.
"""

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from httpx import ASGITransport, AsyncClient
from prometheus_client import CollectorRegistry

from {{ cookiecutter.package_name }}_api.app import create_app
from {{ cookiecutter.package_name }}_api.dependencies import get_job_queue
from {{ cookiecutter.package_name }}_api.settings import Settings as ApiSettings
from {{ cookiecutter.package_name }}_core.jobs import JOBS
from {{ cookiecutter.package_name }}_core.metrics import Metrics
from {{ cookiecutter.package_name }}_worker.jobs import count_words
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings


@pytest.fixture
async def api(queue: ArqRedis) -> AsyncIterator[AsyncClient]:
    """The api, its job queue on the worker's in-memory Redis."""
    app = create_app(ApiSettings(_env_file=None), metrics=Metrics(CollectorRegistry()))
    app.dependency_overrides[get_job_queue] = lambda: queue
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


def test_the_worker_has_a_function_for_every_job_of_the_contract() -> None:
    registered = {getattr(function, "name", None) for function in WorkerSettings.functions}

    assert registered == {spec.name for spec in JOBS}


async def test_a_job_the_api_enqueues_is_run_by_the_worker(
    api: AsyncClient, worker: Worker
) -> None:
    text = "the api sends, the worker counts, the api reads"
    accepted = await api.post("/jobs/word-count", json={"text": text})
    assert accepted.status_code == 202, accepted.text

    await worker.main()

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    state = await api.get(accepted.headers["location"])
    assert state.json() == {
        "job_id": accepted.json()["job_id"],
        "status": "complete",
        "result": dict(count_words(text)),
        "error": None,
    }
