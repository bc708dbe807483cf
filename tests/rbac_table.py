"""THE access table: every route of the API, and the roles allowed to call it.

``tests/test_rbac.py`` checks that the app has no route missing from this table and
that every role gets exactly what the table says: 2xx when allowed, 403 when not,
401 without credentials or with a bad token. A route whose success needs a body or
an existing object says how to build the request in ``build``; the builder gets
the caller's ``Ctx`` (its user is None for the anonymous calls) and runs inside the
test's transaction, so it may create what it needs with ``tests.factories``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from telecrm.auth.models import Role, User
from telecrm.config import Settings
from tests import factories

PUBLIC = frozenset({"public"})
ALL_ROLES = frozenset(role.value for role in Role)
STAFF = frozenset({"admin", "billing", "sales", "viewer"})
ADMIN = frozenset({"admin"})


@dataclass
class Ctx:
    session: Session
    settings: Settings
    user: User | None


@dataclass
class Req:
    path: str | None = None  # None: the rule's path as it is
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # exactly as OpenAPI lists it, e.g. /api/users/{user_id}
    allowed: frozenset[str]
    build: Callable[[Ctx], Req] = field(default=lambda ctx: Req())


def _login(ctx: Ctx) -> Req:
    user = factories.user(ctx.session, role=Role.VIEWER)
    return Req(data={"username": user.email, "password": factories.PASSWORD})


RULES: list[Rule] = [
    # --- foundation ---------------------------------------------------------
    Rule("GET", "/api/health", PUBLIC),
    Rule("POST", "/api/auth/token", PUBLIC, _login),
    Rule("GET", "/api/auth/me", ALL_ROLES),
    Rule("GET", "/api/users", ADMIN),
    Rule(
        "POST",
        "/api/users",
        ADMIN,
        lambda ctx: Req(
            json={
                "email": f"{factories.unique('new')}@example.com",
                "password": "a long enough password",
                "role": "viewer",
            }
        ),
    ),
    Rule(
        "PATCH",
        "/api/users/{user_id}",
        ADMIN,
        lambda ctx: Req(
            path=f"/api/users/{factories.user(ctx.session).id}", json={"role": "sales"}
        ),
    ),
    Rule("GET", "/api/api-keys", ADMIN),
    Rule("POST", "/api/api-keys", ADMIN, lambda ctx: Req(json={"name": "pbx-1", "role": "pbx"})),
    Rule(
        "DELETE",
        "/api/api-keys/{key_id}",
        ADMIN,
        lambda ctx: Req(path=f"/api/api-keys/{factories.api_key(ctx.session)[0].id}"),
    ),
    Rule("GET", "/api/audit", ADMIN),
    # --- CRM (accounts, contacts, deals, reports) ---------------------------
    # --- billing (contracts, rate groups, rates, CDRs, invoices) -------------
    # --- CDR management (sources, fetch, push, sync) ------------------------
]
