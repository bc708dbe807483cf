"""Every route against every role, from the one table in ``tests/rbac_table.py``."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.web.permissions import route_roles
from telecrm.web.session import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from tests import factories
from tests.rbac_table import PAGE_RULES, PUBLIC, RULES, Ctx, Req, Rule

CALLERS = ["anonymous", "bad-token", *(role.value for role in Role)]


def test_every_route_of_the_app_is_in_the_table(app: FastAPI) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    table = {(rule.method, rule.path) for rule in RULES}
    assert routes - table == set(), "routes missing from tests/rbac_table.py"
    assert table - routes == set(), "rules for routes the app does not have"


def _expected(rule: Rule, caller: str) -> str:
    if rule.allowed == PUBLIC:
        return "2xx"
    if caller in ("anonymous", "bad-token"):
        return "401"
    if caller not in rule.allowed:
        return "403"
    return rule.allowed_status or "2xx"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.method} {rule.path}")
def test_role_gets_what_the_table_says(
    rule: Rule,
    caller: str,
    client: TestClient,
    db_session: Session,
    settings: Settings,
) -> None:
    headers: dict[str, str] = {}
    user = None
    if caller == "bad-token":
        headers = {"Authorization": "Bearer not.a.token"}
    elif caller != "anonymous":
        user = factories.user(db_session, role=Role(caller))
        headers = factories.bearer(user, settings)
    request: Req = rule.build(Ctx(db_session, settings, user))
    response = client.request(
        rule.method,
        request.path or rule.path,
        headers=headers,
        json=request.json,
        data=request.data,
        files=request.files,
        params=request.params,
    )
    expected = _expected(rule, caller)
    got = "2xx" if 200 <= response.status_code < 300 else str(response.status_code)
    assert got == expected, f"{caller} on {rule.method} {rule.path}: {response.text[:300]}"


def test_api_key_of_a_role_is_held_to_the_same_table(
    client: TestClient, db_session: Session
) -> None:
    _, key = factories.api_key(db_session, role=Role.PBX)
    assert client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 200
    assert client.get("/api/users", headers={"X-API-Key": key}).status_code == 403


def test_every_page_of_the_console_is_in_the_table(app: FastAPI) -> None:
    api = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    pages = set(route_roles(app.routes)) - api
    table = {(rule.method, rule.path) for rule in PAGE_RULES}
    assert pages - table == set(), "pages missing from PAGE_RULES in tests/rbac_table.py"
    assert table - pages == set(), "page rules for pages the app does not have"


def _page_outcome(response_status: int, location: str) -> str:
    if response_status in (302, 303) and location.startswith("/login"):
        return "login"
    if 200 <= response_status < 400:
        return "ok"
    return str(response_status)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("rule", PAGE_RULES, ids=lambda rule: f"{rule.method} {rule.path}")
def test_role_sees_the_pages_the_table_says(
    rule: Rule,
    caller: str,
    app: FastAPI,
    db_session: Session,
    settings: Settings,
) -> None:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(CSRF_COOKIE, "rbac-csrf-token")
    headers = {CSRF_HEADER: "rbac-csrf-token"}
    user = None
    if caller == "bad-token":
        client.cookies.set(SESSION_COOKIE, "not.a.token")
    elif caller != "anonymous":
        user = factories.user(db_session, role=Role(caller))
        client.cookies.set(SESSION_COOKIE, factories.bearer(user, settings)["Authorization"][7:])
    request: Req = rule.build(Ctx(db_session, settings, user))
    response = client.request(
        rule.method,
        request.path or rule.path,
        headers=headers,
        data=request.data,
        files=request.files,
        params=request.params,
    )
    got = _page_outcome(response.status_code, response.headers.get("location", ""))
    if rule.allowed == PUBLIC:
        # Public pages answer anyone; signing out sends anyone to the sign-in page.
        assert got in ("ok", "login"), f"{caller} on {rule.method} {rule.path}: {got}"
        return
    if caller in ("anonymous", "bad-token"):
        expected = "login"
    else:
        expected = (rule.allowed_status or "ok") if caller in rule.allowed else "403"
    assert got == expected, f"{caller} on {rule.method} {rule.path}: {response.text[:300]}"
