"""Jinja2 for the pages: one ``render`` that gives every template the principal, the
CSRF token, the navigation the role may use, ``can(method, api_path)`` for buttons,
and filters for money and time (amounts in the currency's minor units with thousands
separators; times in the billing time zone, with the zone named)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from telecrm import __version__
from telecrm.auth.service import Principal
from telecrm.config import Settings
from telecrm.money import format_amount
from telecrm.web.permissions import may, page_roles
from telecrm.web.session import csrf_token, keep_csrf_cookie

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

# The navigation: (label, path of a GET page). A role sees an entry only when that
# page's own ``page_require`` lets it in.
NAVIGATION: list[tuple[str, str]] = [
    ("Dashboard", "/dashboard"),
    ("Calls", "/calls"),
    ("Imports", "/calls/imports"),
    ("Upload CDRs", "/calls/upload"),
    ("Contracts", "/contracts"),
    ("Rates", "/rate-groups"),
    ("Billing", "/billing"),
    ("Invoices", "/invoices"),
    ("My account", "/portal"),
    ("My invoices", "/portal/invoices"),
    ("My calls", "/portal/calls"),
    ("Sources", "/sources"),
    ("CRM sync", "/sync"),
    ("CRM", "/crm/accounts"),
    ("Admin", "/admin/users"),
]


def money(amount: Decimal | int | float | str | None, currency: str = "EUR") -> str:
    if amount is None:
        return ""
    return f"{format_amount(Decimal(str(amount)), currency)} {currency}"


def number(value: int | Decimal | None) -> str:
    return "" if value is None else f"{value:,}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def local_time(request: Request, value: dt.datetime | None, with_zone: bool = True) -> str:
    """An instant in the billing time zone, to the second, the zone named."""
    if value is None:
        return ""
    zone = _settings(request).tz
    if value.tzinfo is None:  # the database's instants are UTC
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {zone.key}" if with_zone else text


def _nav(request: Request, principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    pages = page_roles(request.app)
    return [
        (label, path)
        for label, path in NAVIGATION
        if principal.role in pages.get(("GET", path), frozenset())
    ]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    principal = principal or getattr(request.state, "principal", None)
    settings = _settings(request)

    def can(method: str, api_path: str) -> bool:
        return principal is not None and may(request.app, principal.role, method, api_path)

    values: dict[str, Any] = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "nav": _nav(request, principal),
        "can": can,
        "zone": settings.timezone,
        "version": __version__,
        "local_time": lambda value, with_zone=True: local_time(request, value, with_zone),
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    keep_csrf_cookie(request, response)
    return response


TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["number"] = number
