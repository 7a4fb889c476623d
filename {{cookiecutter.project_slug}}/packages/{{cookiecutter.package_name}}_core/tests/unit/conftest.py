"""Unit-test fixtures of the core package: logging put back after each test, one span exporter."""

import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(_EXPORTER))
# The global provider can be set once per process: this one, for every test.
trace.set_tracer_provider(_PROVIDER)


@pytest.fixture(autouse=True)
def logging_put_back() -> Iterator[None]:
    """Each test may configure logging; the next one starts from what was there before."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished during the test."""
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture
def tracer() -> trace.Tracer:
    """A tracer of the tests' provider."""
    return _PROVIDER.get_tracer("tests")
