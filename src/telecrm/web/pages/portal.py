"""The customer portal: only the customer's own contract."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from telecrm.web.dependencies import CustomerPage
from telecrm.web.templating import render

router = APIRouter()


@router.get("/portal", include_in_schema=False)
def portal(request: Request, _: CustomerPage) -> HTMLResponse:
    return render(request, "portal/index.html")
