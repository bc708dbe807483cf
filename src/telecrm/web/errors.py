"""Errors on pages: the API's handlers answer JSON under ``/api``; elsewhere the same
refusal (same status, same message) is a page. No session: a redirect to sign in
(``HX-Redirect`` for an HTMX request)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from telecrm.errors import AppError
from telecrm.web.dependencies import LoginRequired
from telecrm.web.templating import render

Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def is_page(request: Request) -> bool:
    """A page of the console (its routes are left out of the OpenAPI), not the API
    (``/api``, ``/metrics``) or a static file; an unmatched path is a page unless it is
    under ``/api``."""
    route = request.scope.get("route")
    if route is not None:
        return not getattr(route, "include_in_schema", True)
    path = request.url.path
    return not (path.startswith(("/api", "/static")) or path == "/metrics")


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _error_page(request: Request, status: int, message: str, code: str) -> Response:
    template = "error_fragment.html" if request.headers.get("HX-Request") else "error.html"
    response = render(
        request, template, {"status": status, "message": message, "code": code}, status
    )
    if request.headers.get("HX-Request"):
        # Show the refusal where the page expects messages, whatever the target was.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def install_page_errors(app: FastAPI) -> None:
    """Wrap the API's handlers (installed first) so pages get pages."""
    api_app_error: Handler = app.exception_handlers[AppError]
    api_validation: Handler = app.exception_handlers[RequestValidationError]
    api_http: Handler = app.exception_handlers[StarletteHTTPException]

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if not is_page(request):
            return await _call(api_app_error, request, exc)
        return _error_page(request, exc.status_code, exc.message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not is_page(request):
            return await _call(api_validation, request, exc)
        fields = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}"
            for err in exc.errors()
        )
        return _error_page(request, 422, f"invalid input: {fields}", "validation_failed")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_page(request):
            return await _call(api_http, request, exc)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        return _error_page(request, exc.status_code, message, f"http_{exc.status_code}")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: LoginRequired) -> Response:
        return login_redirect(request)


async def _call(handler: Handler, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if isinstance(result, Response):
        return result
    return await result
