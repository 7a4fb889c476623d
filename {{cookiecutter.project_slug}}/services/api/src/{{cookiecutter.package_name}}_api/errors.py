"""Errors that the application turns into HTTP responses instead of tracebacks, and deadlines.

What a client sees is short and fixed (which component failed, never why); the cause, with the
driver's own words, goes to the log.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any{% if cookiecutter.python_version == '3.11' %}, TypeVar{% endif %}

{% if cookiecutter.python_version == '3.11' -%}
T = TypeVar("T")
{% endif -%}
# Work given up at its deadline, still finishing its cleanup (a connection closing); kept
# referenced so it is not garbage-collected mid-way, and awaited at shutdown.
_ABANDONED: set[asyncio.Task[Any]] = set()


class ServiceUnavailableError(Exception):
    """A backing component (database, cache, queue, model) cannot serve the request now.

    Raised by the storage and queue adapters; the application answers 503 naming ``component``,
    so a client knows what failed and that retrying later may work. ``cause`` is logged only.
    """

    def __init__(self, component: str, cause: str, *, timed_out: bool = False) -> None:
        super().__init__(f"{component}: {cause}")
        self.component = component
        self.cause = cause
        self.timed_out = timed_out

    @property
    def public_detail(self) -> str:
        """What the response body says: the component, nothing of the cause."""
        return f"{self.component} unavailable"


@asynccontextmanager
async def backend_call(
    component: str, seconds: float, failures: tuple[type[BaseException], ...] = ()
) -> AsyncIterator[None]:
    """Give the block ``seconds`` to finish; turn a timeout or one of ``failures`` into a 503.

    The deadline covers everything inside (waiting for a pooled connection, connecting, every
    round trip), so a backend that stalls costs a request at most ``seconds``.
    """
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError as exc:
        cause = f"no answer within {seconds:g}s"
        raise ServiceUnavailableError(component, cause, timed_out=True) from exc
    except failures as exc:
        raise ServiceUnavailableError(component, describe(exc)) from exc


async def within{% if cookiecutter.python_version != '3.11' %}[T]{% endif %}(
    component: str,
    seconds: float,
    work: Callable[[], Awaitable[T]],
    failures: tuple[type[BaseException], ...] = (),
) -> T:
    """Run ``work()`` for at most ``seconds``, like :func:`backend_call`, and answer on time.

    Past the deadline the caller gets its 503 at once: ``work`` is cancelled and finishes its
    cleanup (a driver closing a connection gracefully takes up to seconds more) in the
    background instead of on the caller's time.
    """
    task: asyncio.Task[T] = asyncio.ensure_future(work())
    try:
        async with backend_call(component, seconds, failures):
            return await asyncio.shield(task)
    finally:
        if not task.done():
            task.cancel()
            _ABANDONED.add(task)
            task.add_done_callback(_forget)


def _forget(task: asyncio.Task[Any]) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: the caller was answered already


async def finish_abandoned_work() -> None:
    """Wait until work given up at a deadline has finished its cleanup (before pools close)."""
    if _ABANDONED:
        await asyncio.wait(set(_ABANDONED))


def describe(exc: BaseException, *, limit: int = 300) -> str:
    """A one-line, bounded description of an exception for logs.

    Driver messages can span many lines (SQL, hints, links); the first line says what happened.
    """
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
