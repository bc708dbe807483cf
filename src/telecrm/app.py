"""``create_app()``: the routers of every domain, the one error handler
(``telecrm.api_errors``) and the web console (``telecrm.web``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import Engine, text

import telecrm.models  # noqa: F401  (every table known before the first query)
from telecrm import __version__
from telecrm.accounts.routes import router as accounts_router
from telecrm.api_errors import document_errors, install_error_handlers
from telecrm.audit.routes import router as audit_router
from telecrm.auth.routes import router as auth_router
from telecrm.cdrs.routes import push_router
from telecrm.cdrs.routes import router as cdrs_router
from telecrm.cdrs.sources.drainer import PushDrainer
from telecrm.config import Settings, get_settings
from telecrm.contacts.routes import router as contacts_router
from telecrm.contracts.routes import router as contracts_router
from telecrm.crm.routes import sync_router as crm_sync_router
from telecrm.db import get_engine, session_factory
from telecrm.deals.routes import router as deals_router
from telecrm.invoices.routes import router as invoices_router
from telecrm.jobs.routes import router as jobs_router
from telecrm.observability.middleware import ObservabilityMiddleware
from telecrm.observability.routes import router as observability_router
from telecrm.rates.routes import router as rates_router
from telecrm.reconciliation.routes import router as reconciliation_router
from telecrm.reports.routes import router as reports_router
from telecrm.web.routes import install_web

ROUTERS: list[APIRouter] = [
    auth_router,
    audit_router,
    accounts_router,
    contacts_router,
    deals_router,
    reports_router,
    crm_sync_router,
    contracts_router,
    rates_router,
    cdrs_router,  # the CDR domain, its own routes in the order they must be
    invoices_router,
    reconciliation_router,
    jobs_router,
]


class Health(BaseModel):
    status: str
    version: str
    database: str


health_router = APIRouter(prefix="/api", tags=["health"])


@health_router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    with request.app.state.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__, database=request.app.state.engine.dialect.name)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or get_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # each server process imports the posts /api/cdrs/push staged (see drainer)
        drainer = PushDrainer(engine, settings) if settings.push_drain_seconds else None
        if drainer is not None:
            drainer.start()
        try:
            yield
        finally:
            if drainer is not None:
                drainer.stop()

    app = FastAPI(
        title="telecrm",
        version=__version__,
        description="Telecom CRM and billing: CDRs, exact rating, invoices, CRM sync.",
        docs_url=None,  # served from vendored assets by telecrm.web
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.write_sessions = session_factory(engine, write=True)
    install_error_handlers(
        app,
        max_body_bytes=settings.max_upload_mb * 2**20,
        own_parser_paths=frozenset({"/api/cdrs/push"}),
    )
    # outermost: the request id is set before anything logs, and every answer counted
    app.add_middleware(ObservabilityMiddleware)
    app.include_router(health_router)
    app.include_router(push_router)  # first: see telecrm.cdrs.routes
    app.include_router(observability_router)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app)
    install_web(app)
    return app
