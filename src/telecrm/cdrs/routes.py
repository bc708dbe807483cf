"""The CDR domain's API: every route under ``/api/cdrs``, in one order decided here,
and the CDR sources' own ``/api/cdr-sources``. ``create_app`` includes ``router``, and
``push_router`` (POST /api/cdrs/push) before every other: a busy PBX posts a call at a
time, and the routes matched before it cost each post time."""

from __future__ import annotations

from fastapi import APIRouter

from telecrm.cdrs.crm_sync.routes import router as crm_sync_router
from telecrm.cdrs.imports.routes import router as imports_router
from telecrm.cdrs.lifecycle.routes import router as lifecycle_router
from telecrm.cdrs.listing.routes import router as listing_router
from telecrm.cdrs.sources.routes import cdrs_router as fetch_router
from telecrm.cdrs.sources.routes import push_router
from telecrm.cdrs.sources.routes import router as sources_router

router = APIRouter()
# Every route under /api/cdrs, in the order they are matched: the listing last, or its
# /{cdr_id} would take /statuses, /sync, /imports...
for sub_router in (
    imports_router,
    lifecycle_router,
    crm_sync_router,
    fetch_router,
    listing_router,
):
    router.include_router(sub_router, prefix="/api/cdrs")
router.include_router(sources_router)

__all__ = ["push_router", "router"]
