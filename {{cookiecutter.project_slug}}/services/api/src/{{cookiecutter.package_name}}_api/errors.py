"""Errors that the application turns into HTTP responses instead of tracebacks."""


class ServiceUnavailableError(Exception):
    """A backing component (database, cache, queue, model) cannot serve the request now.

    Raised by the storage and queue adapters; the application answers 503 with ``detail``, so a
    client sees which component failed and that retrying later may work.
    """

    def __init__(self, component: str, detail: str) -> None:
        super().__init__(f"{component}: {detail}")
        self.component = component
        self.detail = detail


def describe(exc: BaseException, *, limit: int = 300) -> str:
    """A one-line, bounded description of an exception for logs and health reports.

    Driver messages can span many lines (SQL, hints, links); the first line says what happened.
    """
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
