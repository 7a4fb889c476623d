"""Readiness probes: one per backing component, run together with a time limit each.

Liveness (the process answers HTTP) needs no probe. Readiness does: a load balancer takes a
not-ready instance out of rotation without restarting it, so a database outage does not turn into a
restart storm. A component is *required* (the instance cannot serve without it: readiness fails) or
*optional* (a cache: the instance serves without it, readiness says "degraded" and stays 200).

The report says which component failed and how (``timeout``, ``unavailable`` or the probe's own
short reason), never the driver's message: that goes to the log.
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

    @property
    def required(self) -> bool:
        """Whether the instance cannot serve without the component."""
        ...

    async def check(self) -> None:
        """Return when the component works; raise (any exception) when it does not."""
        ...


class ProbeFailedError(Exception):
    """A probe's known failure; ``reason`` (short, fixed words) is shown in the report."""

    def __init__(self, reason: str, cause: str) -> None:
        super().__init__(cause)
        self.reason = reason


class CheckResult(BaseModel):
    """The outcome of one probe."""

    status: Literal["ok", "fail"]
    required: bool
    duration_ms: float
    reason: str | None = None


class ReadinessReport(BaseModel):
    """The body of ``GET /health/ready``: overall status and one entry per component."""

    status: Literal["ok", "degraded", "fail"]
    checks: dict[str, CheckResult]


async def run_probe(probe: Probe, time_limit: float) -> CheckResult:
    """Run one probe for at most ``time_limit`` seconds; failures become results, never raise."""
    started = time.perf_counter()
    reason: str | None = None
    cause = ""
    try:
        async with asyncio.timeout(time_limit):
            await probe.check()
    except TimeoutError:
        reason, cause = "timeout", f"no answer within {time_limit:g}s"
    except ProbeFailedError as exc:
        reason, cause = exc.reason, str(exc)
    except Exception as exc:  # noqa: BLE001 -- any failure is reported, none may escape
        reason, cause = "unavailable", describe(exc)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    if reason is not None:
        logger.warning("readiness check %s failed: %s", probe.name, cause)
        return CheckResult(
            status="fail", required=probe.required, duration_ms=duration_ms, reason=reason
        )
    return CheckResult(status="ok", required=probe.required, duration_ms=duration_ms)


async def check_readiness(probes: Sequence[Probe], time_limit: float) -> ReadinessReport:
    """Run every probe concurrently, so the report takes as long as the slowest one."""
    results = await asyncio.gather(*(run_probe(probe, time_limit) for probe in probes))
    checks = {probe.name: result for probe, result in zip(probes, results, strict=True)}
    failed = [result for result in checks.values() if result.status == "fail"]
    if any(result.required for result in failed):
        return ReadinessReport(status="fail", checks=checks)
    return ReadinessReport(status="degraded" if failed else "ok", checks=checks)
