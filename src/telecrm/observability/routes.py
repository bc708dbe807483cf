from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from telecrm.api_errors import error_responses
from telecrm.auth.dependencies import api_key_scheme, bearer_scheme, current_principal
from telecrm.auth.models import Role
from telecrm.dependencies import SessionDep, SettingsDep
from telecrm.errors import Forbidden, NotAuthenticated, NotReady
from telecrm.observability import metrics
from telecrm.observability.readiness import Readiness, readiness

router = APIRouter(tags=["health"])


def metrics_reader(
    request: Request,
    background_tasks: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> None:
    """The scraper's bearer token (``TELECRM_METRICS_TOKEN``), or an admin's credentials."""
    expected = settings.metrics_token
    if (
        token
        and expected is not None
        and hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        return
    principal = current_principal(request, background_tasks, session, settings, token, api_key)
    if principal.role != Role.ADMIN:
        raise Forbidden(f"role {principal.role.value} may not read the metrics (allowed: admin)")


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    description="The text exposition format. For an admin, or with the bearer token "
    "TELECRM_METRICS_TOKEN (a scraper's). The call figures are counted by the database "
    "at each scrape; the request metrics are this server process's.",
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}},
        **error_responses(NotAuthenticated, Forbidden),
    },
    dependencies=[Depends(metrics_reader)],
)
def prometheus_metrics(session: SessionDep, settings: SettingsDep) -> Response:
    return Response(metrics.scrape(session, settings), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/health/ready",
    response_model=Readiness,
    summary="Readiness: the database, and the broker and Redis when configured",
    description="200 when each answers; 503 naming each that failed (a load balancer "
    "takes the instance out). `/api/health` says only that the process is up.",
    responses=error_responses(NotReady),
)
def ready(request: Request, settings: SettingsDep) -> Readiness:
    return readiness(request.app.state.engine, settings)
