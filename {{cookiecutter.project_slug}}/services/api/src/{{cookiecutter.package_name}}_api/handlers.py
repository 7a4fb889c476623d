"""How failures become responses: short, fixed bodies that never carry internals or the input.

* A backend outage (:class:`ServiceUnavailableError`): 503 naming the component, with
  ``Retry-After``; the cause goes to the log.
* A request that does not validate: 422 listing where and what is wrong (``loc``, ``msg``,
  ``type``), never the value that was sent: a 30 MB body is not echoed back, and neither is a
  secret someone pasted into the wrong field.
* Anything else the code did not expect: 500 with the request id, the traceback in the log.

Every answer carries ``X-Request-ID`` (the telemetry middleware adds it; the 500, sent from
outside every middleware, adds it itself), so a client's report leads to the log lines.
"""

import logging

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}_api.errors import ServiceUnavailableError
from {{ cookiecutter.package_name }}_api.telemetry import HEADER, request_id_of
from {{ cookiecutter.package_name }}_core.metrics import Metrics

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a 503.
RETRY_AFTER_SECONDS = 5
# At most this many validation errors are listed; a huge invalid list gives a short answer.
MAX_REPORTED_ERRORS = 20


async def service_unavailable(request: Request, exc: ServiceUnavailableError) -> JSONResponse:
    """503 for a backend outage: the component's name for the client, the cause for the log."""
    kind = "timeout" if exc.timed_out else "error"
    metrics: Metrics = request.app.state.metrics
    metrics.backend_failures.labels(exc.component, kind).inc()
    logger.warning(
        "%s %s: %s unavailable: %s",
        request.method,
        request.url.path,
        exc.component,
        exc.cause,
        extra={"component": exc.component, "failure": kind},
    )
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": exc.public_detail, "component": exc.component},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def validation_failed(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with each error's location, message and type, and nothing of the input."""
    errors = exc.errors()
    listed = [
        {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in errors[:MAX_REPORTED_ERRORS]
    ]
    content: dict[str, object] = {"detail": listed}
    if len(errors) > MAX_REPORTED_ERRORS:
        content["more_errors"] = len(errors) - MAX_REPORTED_ERRORS
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=content)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """500 for a bug: the request id to quote, nothing of the error; the traceback to the log."""
    request_id = request_id_of(request.scope)
    logger.error(
        "%s %s failed",
        request.method,
        request.url.path,
        exc_info=exc,
        extra={"request_id": request_id},
    )
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "internal error", "request_id": request_id},
        headers={HEADER: request_id},
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.exception_handler(ServiceUnavailableError)(service_unavailable)
    app.exception_handler(RequestValidationError)(validation_failed)
    app.exception_handler(Exception)(internal_error)
