import json
import logging

import pytest
import structlog
from opentelemetry import trace

from {{ cookiecutter.package_name }}_core.logs import configure_logging, mask_secrets


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_line_has_the_common_fields_and_the_bound_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", level="INFO", fmt="json")

    with structlog.contextvars.bound_contextvars(request_id="r-1"):
        logging.getLogger("svc.part").info("hello %s", "world", extra={"route": "/x"})

    [line] = json_lines(capsys.readouterr().out)
    assert line["message"] == "hello world"
    assert (line["level"], line["logger"], line["service"]) == ("info", "svc.part", "svc")
    assert (line["request_id"], line["route"]) == ("r-1", "/x")
    assert str(line["time"]).endswith("Z")


def test_a_line_in_a_span_has_its_trace_ids(
    capsys: pytest.CaptureFixture[str], tracer: trace.Tracer
) -> None:
    configure_logging("svc", level="INFO", fmt="json")

    with tracer.start_as_current_span("work") as span:
        logging.getLogger("svc").info("inside")
    context = span.get_span_context()

    [line] = json_lines(capsys.readouterr().out)
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_a_line_outside_a_span_has_no_trace_ids(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", level="INFO", fmt="json")

    logging.getLogger("svc").info("outside")

    [line] = json_lines(capsys.readouterr().out)
    assert "trace_id" not in line


def test_secrets_never_reach_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", level="INFO", fmt="json")
    log = logging.getLogger("svc")

    log.info("connecting to postgresql+asyncpg://app:s3cret@db:5432/app")
    log.info("settings", extra={"database_password": "s3cret", "api_key": "s3cret", "user": "app"})
    try:
        raise ConnectionError("redis://:s3cret@cache:6379/0 refused")
    except ConnectionError:
        log.exception("failed")

    output = capsys.readouterr().out
    assert "s3cret" not in output
    first, second, third = json_lines(output)
    assert first["message"] == "connecting to postgresql+asyncpg://app:***@db:5432/app"
    assert (second["database_password"], second["api_key"], second["user"]) == ("***", "***", "app")
    assert "redis://:***@cache:6379/0 refused" in str(third["exception"])


def test_console_lines_are_readable_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", level="INFO", fmt="console")

    logging.getLogger("svc").warning("disk %s full", "/data")

    output = capsys.readouterr().out
    assert "disk /data full" in output
    with pytest.raises(json.JSONDecodeError):
        json.loads(output)


def test_auto_is_json_when_no_terminal_reads(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc", level="INFO", fmt="auto")  # pytest's captured stdout is no terminal

    logging.getLogger("svc").info("plain")

    assert json_lines(capsys.readouterr().out)[0]["message"] == "plain"


def test_the_level_filters_and_chatty_libraries_are_quieter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc", level="INFO", fmt="json")

    logging.getLogger("svc").debug("hidden")
    logging.getLogger("httpx").info("HTTP Request: GET http://x")

    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("rediss://:p@h:6380/0 and amqp://u:p2@h", "rediss://:***@h:6380/0 and amqp://u:***@h"),
        ("https://example.com/path?x=1", "https://example.com/path?x=1"),
        ("no url at all", "no url at all"),
    ],
)
def test_urls_lose_their_passwords(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
