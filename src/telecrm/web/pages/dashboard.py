"""The staff dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from telecrm.web.dependencies import StaffPage
from telecrm.web.templating import render

router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request, _: StaffPage) -> HTMLResponse:
    return render(request, "dashboard/index.html")
