"""Jobs end to end on a real Redis: queued by a client, run by the worker, results stored."""

from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from arq.jobs import JobStatus
from arq.worker import Worker

from {{ cookiecutter.package_name }}_core.jobs import WORD_COUNT, WordCountPayload, job_arguments
from {{ cookiecutter.package_name }}_worker.jobs import count_words
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings


def word_count_of(text: str) -> tuple[dict[str, object], dict[str, object]]:
    """The arguments the api enqueues a word count with."""
    return job_arguments(WORD_COUNT, WordCountPayload(text=text))


async def test_a_queued_job_runs_and_its_result_is_kept(queue: ArqRedis, worker: Worker) -> None:
    job = await queue.enqueue_job(WORD_COUNT.name, *word_count_of("the cat and the hat"))
    assert job is not None
    assert await job.status() is JobStatus.queued

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert info.success
    assert info.result == count_words("the cat and the hat")
    assert info.result["words"] == 5
    assert await job.status() is JobStatus.complete
    ttl_ms = await queue.pttl(result_key_prefix + job.job_id)
    assert 0 < ttl_ms <= WorkerSettings.keep_result * 1000


async def test_a_failing_job_is_recorded_with_its_error(queue: ArqRedis, worker: Worker) -> None:
    job = await queue.enqueue_job(WORD_COUNT.name, {"text": ""}, {})
    assert job is not None

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert not info.success
    assert "String should have at least 1 character" in info.result
    assert (worker.jobs_complete, worker.jobs_failed) == (0, 1)


async def test_jobs_queued_together_all_run(queue: ArqRedis, worker: Worker) -> None:
    texts = ["word " * n for n in range(1, 6)]
    jobs = [await queue.enqueue_job(WORD_COUNT.name, *word_count_of(text)) for text in texts]

    await worker.main()

    results = [await job.result(timeout=5) for job in jobs if job is not None]
    assert [result["words"] for result in results] == [1, 2, 3, 4, 5]
    assert worker.jobs_complete == 5
