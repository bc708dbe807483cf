"""``create_app()``: the routers of every domain and the one error handler."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

import telecrm.models  # noqa: F401  (every table known before the first query)
from telecrm import __version__
from telecrm.accounts.routes import router as accounts_router
from telecrm.audit.routes import router as audit_router
from telecrm.auth.routes import router as auth_router
from telecrm.call_sync.routes import router as call_sync_router
from telecrm.cdr_sources.routes import push_router as cdr_push_router
from telecrm.cdr_sources.routes import router as cdr_sources_router
from telecrm.cdr_status.routes import router as cdr_status_router
from telecrm.cdrs.import_routes import router as cdr_import_router
from telecrm.cdrs.routes import router as cdrs_router
from telecrm.config import Settings, get_settings
from telecrm.contacts.routes import router as contacts_router
from telecrm.contracts.routes import router as contracts_router
from telecrm.db import get_engine, session_factory
from telecrm.deals.routes import router as deals_router
from telecrm.errors import AppError
from telecrm.invoices.routes import router as invoices_router
from telecrm.rates.routes import router as rates_router
from telecrm.reconciliation.routes import router as reconciliation_router
from telecrm.reports.routes import router as reports_router

log = logging.getLogger(__name__)

ROUTERS: list[APIRouter] = [
    auth_router,
    audit_router,
    accounts_router,
    contacts_router,
    deals_router,
    reports_router,
    contracts_router,
    rates_router,
    # before cdrs_router: /api/cdrs/{cdr_id} would take /api/cdrs/statuses, /sync...
    cdr_import_router,
    cdr_status_router,
    call_sync_router,
    cdr_sources_router,
    cdr_push_router,
    cdrs_router,
    invoices_router,
    reconciliation_router,
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


def _error(status_code: int, message: str, detail: Any = None, headers: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status_code, content={"error": message, "detail": detail}, headers=headers
    )


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body",)) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _error(exc.status_code, exc.message, exc.detail, exc.response_headers())

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field_name(tuple(error["loc"])), "message": error["msg"]}
            for error in exc.errors()
        ]
        summary = "; ".join(f"{field['field']}: {field['message']}" for field in fields)
        return _error(422, f"invalid request: {summary}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal error; the server log has the details")


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
    install_error_handlers(app)
    app.include_router(health_router)
    for router in ROUTERS:
        app.include_router(router)
    return app
