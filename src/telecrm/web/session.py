"""The browser session and its CSRF guard.

The session is the API's own signed token (``auth.service.issue_token``) in an HttpOnly,
SameSite=Lax cookie, Secure when the request came over HTTPS; the API never reads
this cookie (it takes a bearer token or an API key), so a page's cookie cannot be
replayed against ``/api``. CSRF is a double-submit token: a random value in its own
HttpOnly SameSite=Strict cookie that every form repeats in a hidden ``csrf_token``
field (HTMX sends it as ``X-CSRF-Token``); a state-changing request without the pair
is refused before any page code runs."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from telecrm.errors import CsrfRefused

SESSION_COOKIE = "telecrm_session"
CSRF_COOKIE = "telecrm_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one that ``keep_csrf_cookie``
    sets on the response."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = getattr(request.state, "new_csrf_token", None) or secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return token


def keep_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request)
        )


async def check_csrf(request: Request) -> None:
    """A router-wide dependency of every page: unsafe methods must repeat the cookie's
    token in the form or the header. Starlette caches the parsed form, so the page's
    own ``Form`` parameters read the same body."""
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused(
            "the form's security token is missing or stale: reload the page and try again"
        )


def start_session(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    # A new CSRF token with the new session: one fixed before login is not carried over.
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
