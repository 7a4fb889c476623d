"""Constraints on text that reaches storage or a job, shared by request models and job payloads.

PostgreSQL refuses the NUL character in text (and many tools truncate at it), so text that a
request hands on is rejected at the door: a 422 naming the field, not a 500.
"""

from typing import Annotated

from pydantic import AfterValidator


def _no_nul(value: str) -> str:
    if "\x00" in value:
        msg = "must not contain the NUL character (U+0000)"
        raise ValueError(msg)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
