"""The console's one router: every page router, behind the CSRF check; and
``install_web(app)``, which mounts it, the vendored static files and the page errors."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from telecrm.web.errors import install_page_errors
from telecrm.web.pages import (
    admin,
    auth,
    billing,
    calls,
    contracts,
    crm,
    dashboard,
    docs,
    invoices,
    portal,
    rates,
    sources,
    sync,
)
from telecrm.web.session import check_csrf

STATIC = Path(__file__).parent / "static"

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
for page_router in (
    auth.router,
    docs.router,
    dashboard.router,
    portal.router,
    contracts.router,
    rates.router,
    billing.router,
    invoices.router,
    calls.router,  # after billing's /calls/upload; its own paths take int ids
    sources.router,
    sync.router,
    crm.router,
    admin.router,
):
    router.include_router(page_router)


def install_web(app: FastAPI) -> None:
    """Mount the console on ``app``: after the API's routers and error handlers."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_page_errors(app)
