"""Readiness probes: one per backing component, run together with a time limit each.

Liveness (the process answers HTTP) needs no probe. Readiness (every component this instance
needs answers) does: a load balancer takes a not-ready instance out of rotation without
restarting it, so a database outage does not turn into a restart storm.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel

from {{ cookiecutter.package_name }}_api.errors import describe

logger = logging.getLogger(__name__)


class Probe(Protocol):
    """A readiness check of one component."""

    @property
    def name(self) -> str:
        """The component's key in the readiness report, e.g. ``database``."""
        ...

    async def check(self) -> None:
        """Return when the component works; raise (any exception) when it does not."""
        ...


class CheckResult(BaseModel):
    """The outcome of one probe."""

    status: Literal["ok", "fail"]
    duration_ms: float
    error: str | None = None


class ReadinessReport(BaseModel):
    """The body of ``GET /health/ready``: overall status and one entry per component."""

    status: Literal["ok", "fail"]
    checks: dict[str, CheckResult]


async def run_probe(probe: Probe, time_limit: float) -> CheckResult:
    """Run one probe for at most ``time_limit`` seconds; failures become results, never raise."""
    started = time.perf_counter()
    error: str | None = None
    try:
        async with asyncio.timeout(time_limit):
            await probe.check()
    except TimeoutError:
        error = f"no answer within {time_limit:g}s"
    except Exception as exc:  # noqa: BLE001 -- any failure is reported, none may escape
        error = describe(exc)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    if error is not None:
        logger.warning("readiness check %s failed: %s", probe.name, error)
        return CheckResult(status="fail", duration_ms=duration_ms, error=error)
    return CheckResult(status="ok", duration_ms=duration_ms)


async def check_readiness(probes: Sequence[Probe], time_limit: float) -> ReadinessReport:
    """Run every probe concurrently, so the report takes as long as the slowest one."""
    results = await asyncio.gather(*(run_probe(probe, time_limit) for probe in probes))
    checks = {probe.name: result for probe, result in zip(probes, results, strict=True)}
    healthy = all(result.status == "ok" for result in checks.values())
    return ReadinessReport(status="ok" if healthy else "fail", checks=checks)
