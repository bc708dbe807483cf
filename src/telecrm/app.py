"""``create_app()``: the routers of every domain and the one error handler
(``telecrm.api_errors``)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import Engine, text

import telecrm.models  # noqa: F401  (every table known before the first query)
from telecrm import __version__
from telecrm.accounts.routes import router as accounts_router
from telecrm.api_errors import document_errors, install_error_handlers
from telecrm.audit.routes import router as audit_router
from telecrm.auth.routes import router as auth_router
from telecrm.cdrs.routes import router as cdrs_router
from telecrm.config import Settings, get_settings
from telecrm.contacts.routes import router as contacts_router
from telecrm.contracts.routes import router as contracts_router
from telecrm.db import get_engine, session_factory
from telecrm.deals.routes import router as deals_router
from telecrm.invoices.routes import router as invoices_router
from telecrm.jobs.routes import router as jobs_router
from telecrm.rates.routes import router as rates_router
from telecrm.reconciliation.routes import router as reconciliation_router
from telecrm.reports.routes import router as reports_router

ROUTERS: list[APIRouter] = [
    auth_router,
    audit_router,
    accounts_router,
    contacts_router,
    deals_router,
    reports_router,
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
    app = FastAPI(
        title="telecrm",
        version=__version__,
        description="Telecom CRM and billing: CDRs, exact rating, invoices, CRM sync.",
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
    app.include_router(health_router)
    for router in ROUTERS:
        app.include_router(router)
    document_errors(app)
    return app
