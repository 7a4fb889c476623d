from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from {{ cookiecutter.package_name }}_worker.jobs import (
    WORD_COUNT_JOB,
    count_words,
    deserialize,
    serialize,
    word_count,
)
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


async def test_job_wraps_the_pure_function() -> None:
    assert await word_count({}, "to be or not to be") == count_words("to be or not to be")


def test_worker_registers_the_job_under_the_name_the_api_uses() -> None:
    assert WORD_COUNT_JOB == "word_count"
    names = {getattr(function, "name", None) for function in WorkerSettings.functions}
    assert names == {WORD_COUNT_JOB}
    assert WorkerSettings.job_serializer is serialize
    assert WorkerSettings.job_deserializer is deserialize


async def test_queued_job_runs_and_its_result_is_stored(queue: ArqRedis, worker: Worker) -> None:
    job = await queue.enqueue_job(WORD_COUNT_JOB, "to be or not to be")
    assert job is not None

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert info.success
    assert info.result == count_words("to be or not to be")
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)


async def test_bad_arguments_fail_the_job_with_a_readable_error(
    queue: ArqRedis, worker: Worker
) -> None:
    job = await queue.enqueue_job(WORD_COUNT_JOB, 42)
    assert job is not None

    await worker.main()

    info = await job.result_info()
    assert info is not None
    assert not info.success
    assert info.result == "AttributeError: 'int' object has no attribute 'casefold'"
    assert worker.jobs_failed == 1


def test_serializer_round_trips_json() -> None:
    value: dict[str, Any] = {"t": 1, "a": ["text"], "k": {}, "r": {"words": 2}}

    assert deserialize(serialize(value)) == value


def test_serializer_keeps_exception_type_and_message() -> None:
    assert deserialize(serialize(ValueError("bad"))) == "ValueError: bad"


def test_serializer_refuses_arbitrary_objects() -> None:
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        serialize(object())
