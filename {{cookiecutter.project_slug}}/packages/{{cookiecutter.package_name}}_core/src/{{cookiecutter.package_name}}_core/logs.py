"""One logging configuration per process: JSON lines in containers, readable text in a terminal.

Every logger of the process goes through it: the services' own (the standard ``logging``
module), uvicorn's, SQLAlchemy's{% if cookiecutter.with_worker %}, arq's{% endif %}. Each line has ``time``, ``level``, ``logger``,
``message`` and ``service``, and where they exist ``request_id``, ``job_id``, ``trace_id`` and
``span_id`` (bound with :func:`structlog.contextvars.bound_contextvars`, or taken from the current
span). Passwords in URLs, and the values of fields named like secrets, are masked before a line is
written, exceptions included.
"""

import logging
import re
import sys
from collections.abc import Callable

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, Processor, WrappedLogger

from {{ cookiecutter.package_name }}_core.settings import LogFormat, LogLevel

MASK = "***"
# The password of user:password@ in a URL (database, Redis and broker DSNs).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.IGNORECASE)
# Fields whose values are secrets, whatever they hold.
_SECRET_FIELD = re.compile(r"pass(word|wd)?|secret|token|authori[sz]ation|api_?key|cookie", re.I)
# Libraries that log every call at INFO: their warnings are enough.
_QUIET = ("httpx", "httpcore")


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda match: f"{match['head']}{MASK}@", text)


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask secret fields, and passwords in URLs anywhere in the line's text."""
    for key, value in event_dict.items():
        if _SECRET_FIELD.search(key) and value is not None:
            event_dict[key] = MASK
        elif isinstance(value, str):
            event_dict[key] = mask_secrets(value)
    return event_dict


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The current span's trace and span ids, when there is a span."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def _add_service(service: str) -> Callable[[WrappedLogger, str, EventDict], EventDict]:
    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict["service"] = service
        return event_dict

    return add_service


def configure_logging(service: str, *, level: LogLevel, fmt: LogFormat) -> None:
    """Send every log record of the process, as one line each, to standard output.

    ``fmt="auto"`` writes JSON unless a terminal reads the output. Safe to call again (tests,
    reloads): it replaces the previous configuration.
    """
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _add_service(service),
        add_trace_ids,
    ]
    # Tracebacks become text before the masking, so a DSN in an exception is masked too.
    rendering: list[Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        redact,
    ]
    if json_lines:
        rendering += [
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ]
    else:
        rendering.append(structlog.dev.ConsoleRenderer())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=rendering)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Loggers that come with handlers of their own (uvicorn's) write through the root's instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
