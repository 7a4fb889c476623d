"""``/health``: liveness and readiness for orchestrators and load balancers."""

from fastapi import APIRouter, Response, status

from {{ cookiecutter.package_name }}_api.dependencies import ProbesDep
from {{ cookiecutter.package_name }}_api.health import (
    ReadinessReport,
    check_readiness,
)
from {{ cookiecutter.package_name }}_api.settings import SettingsDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """Liveness: the process serves HTTP. Checks nothing else, so it never fails spuriously."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ReadinessReport}},
)
async def ready(probes: ProbesDep, settings: SettingsDep, response: Response) -> ReadinessReport:
    """Readiness: 503 if a required component fails; "degraded" (200) if only optional ones do."""
    report = await check_readiness(probes, settings.readiness_timeout_seconds)
    if report.status == "fail":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report
