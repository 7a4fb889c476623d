"""The jobs this worker runs, and the serializer it shares with the API.

Each job is a thin async wrapper (the arq signature: a context dict, then the job's arguments)
around a pure function, which is where the logic lives and what the tests exercise.
"""

import json
import re
from collections import Counter
from typing import Any, TypedDict

# The name the API enqueues word counts under (see the API's ``jobs`` module).
WORD_COUNT_JOB = "word_count"

# Words are runs of letters and digits, with inner apostrophes (' or U+2019) kept: "don't".
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


class WordFrequency(TypedDict):
    """One word and how often it occurs."""

    word: str
    count: int


class WordCount(TypedDict):
    """The result of :func:`count_words`."""

    words: int
    unique_words: int
    characters: int
    top_words: list[WordFrequency]


def count_words(text: str, *, top: int = 10) -> WordCount:
    """Count the words of ``text``, case-insensitively, with the ``top`` most frequent.

    Ties keep the order in which the words first appear, so the result is deterministic.
    """
    words = _WORD.findall(text.casefold())
    counts = Counter(words)
    return {
        "words": len(words),
        "unique_words": len(counts),
        "characters": len(text),
        "top_words": [{"word": word, "count": count} for word, count in counts.most_common(top)],
    }


async def word_count(ctx: dict[str, Any], text: str) -> WordCount:
    """Count the words of ``text`` (the arq job; the logic is in :func:`count_words`)."""
    return count_words(text)


def _json_default(value: object) -> str:
    # A failed job's result is the exception it raised; keep its type and message.
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    msg = f"{type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


def serialize(value: Any) -> bytes:
    """Encode job arguments and results as JSON (the API decodes them the same way).

    arq's default is pickle, and unpickling data read from Redis lets anyone who can write to
    Redis run code in the worker and the API. JSON cannot.
    """
    return json.dumps(value, default=_json_default).encode()


def deserialize(data: bytes) -> Any:
    """Decode what :func:`serialize` wrote."""
    return json.loads(data)
