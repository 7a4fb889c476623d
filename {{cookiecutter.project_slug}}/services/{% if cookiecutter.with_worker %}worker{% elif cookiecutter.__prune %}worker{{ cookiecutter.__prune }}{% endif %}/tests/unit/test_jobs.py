import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from {{ cookiecutter.package_name }}_core.jobs import (
    JOBS,
    WORD_COUNT,
    WordCountPayload,
    deserialize,
    job_arguments,
    serialize,
)
from {{ cookiecutter.package_name }}_worker.jobs import count_words, word_count
from {{ cookiecutter.package_name }}_worker.main import WorkerSettings


def test_counts_words_case_insensitively() -> None:
    result = count_words("The cat saw the other cat. THE END")

    assert result["words"] == 8
    assert result["unique_words"] == 5
    assert result["characters"] == 34
    assert result["top_words"][:2] == [{"word": "the", "count": 3}, {"word": "cat", "count": 2}]


def test_ties_keep_first_appearance_order() -> None:
    result = count_words("b a c a b c", top=3)

    assert result["top_words"] == [
        {"word": "b", "count": 2},
        {"word": "a", "count": 2},
        {"word": "c", "count": 2},
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", []),
        ("   \n\t ", []),
        ("don't stop", ["don't", "stop"]),
        ("l\u2019eau, c'est 42!", ["l\u2019eau", "c'est", "42"]),
        ("naïve café", ["naïve", "café"]),
        ("well-known", ["well", "known"]),
    ],
)
def test_word_boundaries(text: str, words: list[str]) -> None:
    result = count_words(text, top=len(words) or 1)

    assert result["words"] == len(words)
    assert [entry["word"] for entry in result["top_words"]] == words


def test_top_limits_the_list() -> None:
    result = count_words("a b c d e", top=2)

    assert len(result["top_words"]) == 2
    assert result["unique_words"] == 5


async def test_the_job_validates_its_payload_and_runs_the_pure_function() -> None:
    payload, origin = job_arguments(WORD_COUNT, WordCountPayload(text="to be or not to be"))

    assert await word_count({"job_id": "j1"}, payload, origin) == count_words("to be or not to be")


def test_the_worker_runs_every_job_of_the_contract_with_its_serializer() -> None:
    names = {getattr(function, "name", None) for function in WorkerSettings.functions}
    assert names == {spec.name for spec in JOBS}
    assert WorkerSettings.job_serializer is serialize
    assert WorkerSettings.job_deserializer is deserialize


async def test_queued_job_runs_and_its_result_is_stored(queue: ArqRedis, worker: Worker) -> None:
    arguments = job_arguments(WORD_COUNT, WordCountPayload(text="to be or not to be"))
    job = await queue.enqueue_job(WORD_COUNT.name, *arguments)
    assert job is not None

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert info.success
    assert info.result == count_words("to be or not to be")
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)


async def test_a_payload_outside_the_contract_fails_the_job_with_the_field(
    queue: ArqRedis, worker: Worker
) -> None:
    job = await queue.enqueue_job(WORD_COUNT.name, {"text": 42}, {})
    assert job is not None

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert not info.success
    assert info.result.startswith("ValidationError: 1 validation error for WordCountPayload")
    assert worker.jobs_failed == 1
