"""The jobs this worker runs.

Each job of the contract (the core package's ``jobs``: names, payload models) has a handler here
that takes the validated payload; the core's ``job_function`` turns it into the function arq
calls, with the job's logs, span and metrics. The logic lives in pure functions, which the tests
exercise directly.
"""

import re
from collections import Counter
from typing import TypedDict

from {{ cookiecutter.package_name }}_core.jobs import WORD_COUNT, WordCountPayload, job_function

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


async def count_words_of(payload: WordCountPayload) -> WordCount:
    """The word-count job's handler (the logic is in :func:`count_words`)."""
    return count_words(payload.text)


# The function arq runs for the word-count job, registered under WORD_COUNT.name.
word_count = job_function(WORD_COUNT, count_words_of)
