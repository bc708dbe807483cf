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
from telecrm.cdrs.sources.models import CdrSource, CdrSourceType
from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.invoices.models import InvoiceStatus
from telecrm.jobs.models import Job
from tests import factories

PUBLIC = frozenset({"public"})
ALL_ROLES = frozenset(role.value for role in Role)
STAFF = frozenset({"admin", "billing", "sales", "viewer"})
ADMIN = frozenset({"admin"})
CDR_MANAGE = frozenset({"admin", "billing"})
CDR_READ = frozenset({"admin", "billing", "viewer"})


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


def _push_source(ctx: Ctx) -> CdrSource:
    source = CdrSource(name=factories.unique("pbx-push-"), type=CdrSourceType.PUSH, params={})
    ctx.session.add(source)
    ctx.session.flush()
    return source


def _login(ctx: Ctx) -> Req:
    user = factories.user(ctx.session, role=Role.VIEWER)
    return Req(data={"username": user.email, "password": factories.PASSWORD})


# --- CRM builders -----------------------------------------------------------------

CRM_READ = STAFF
CRM_WRITE = frozenset({"admin", "sales"})


def _new_id() -> int:
    return int(factories.unique(""))


def _account_path(ctx: Ctx) -> str:
    return f"/api/accounts/{factories.account(ctx.session).account_id}"


def _contact_path(ctx: Ctx) -> str:
    return f"/api/contacts/{factories.contact(ctx.session).contact_id}"


def _deal_path(ctx: Ctx) -> str:
    return f"/api/deals/{factories.deal(ctx.session).deal_id}"


def _new_account(ctx: Ctx) -> Req:
    return Req(
        json={
            "account_id": _new_id(),
            "account_name": "PT Rbac",
            "industry": "Retail",
            "account_value": "1000.00",
            "region": "Asia",
        }
    )


def _new_contact(ctx: Ctx) -> Req:
    return Req(
        json={
            "contact_id": factories.unique("RBAC-"),
            "first_name": "Ayu",
            "last_name": "Lestari",
            "email": "ayu@example.com",
            "phone": "0812-3456-7890",
            "lead_source": "Referral",
        }
    )


def _new_deal(ctx: Ctx) -> Req:
    return Req(
        json={
            "deal_id": _new_id(),
            "deal_name": "PBX",
            "deal_size": "5000",
            "probability_of_closure": "20%",
            "deal_stage": "Prospecting",
            "account_id": factories.account(ctx.session).account_id,
        }
    )


# --- billing builders ----------------------------------------------------------

BILLING_WRITE = frozenset({"admin", "billing"})
# A customer sees its own contract, calls and invoices (tests/invoices, tests/cdrs
# check that it cannot see another's).
BILLING_READ = STAFF | {"customer"}


def _contract_of(ctx: Ctx) -> Contract:
    """A contract the caller may see: for a customer, one it is bound to."""
    contract = factories.contract(ctx.session)
    if ctx.user is not None and ctx.user.role == Role.CUSTOMER:
        ctx.user.contract_id = contract.id
        ctx.session.flush()
    return contract


def _invoice_path(status: InvoiceStatus, action: str = "") -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        invoice = factories.invoice(ctx.session, _contract_of(ctx), status=status)
        return Req(path=f"/api/invoices/{invoice.id}{action}")

    return build


def _rate_json() -> dict[str, Any]:
    return {
        "rate_prefix": "62",
        "rate_type": "per_minute",
        "billing_rate": "1000",
        "billing_cycle": 60,
    }


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
    Rule("GET", "/api/accounts", CRM_READ),
    Rule("POST", "/api/accounts", CRM_WRITE, _new_account),
    Rule("GET", "/api/accounts/{account_id}", CRM_READ, lambda ctx: Req(path=_account_path(ctx))),
    Rule(
        "PATCH",
        "/api/accounts/{account_id}",
        CRM_WRITE,
        lambda ctx: Req(path=_account_path(ctx), json={"industry": "Banking"}),
    ),
    Rule(
        "DELETE", "/api/accounts/{account_id}", CRM_WRITE, lambda ctx: Req(path=_account_path(ctx))
    ),
    Rule("GET", "/api/contacts", CRM_READ),
    Rule("POST", "/api/contacts", CRM_WRITE, _new_contact),
    Rule("GET", "/api/contacts/{contact_id}", CRM_READ, lambda ctx: Req(path=_contact_path(ctx))),
    Rule(
        "PATCH",
        "/api/contacts/{contact_id}",
        CRM_WRITE,
        lambda ctx: Req(path=_contact_path(ctx), json={"job_title": "CTO"}),
    ),
    Rule(
        "DELETE", "/api/contacts/{contact_id}", CRM_WRITE, lambda ctx: Req(path=_contact_path(ctx))
    ),
    Rule("GET", "/api/deals", CRM_READ),
    Rule("POST", "/api/deals", CRM_WRITE, _new_deal),
    Rule("GET", "/api/deals/{deal_id}", CRM_READ, lambda ctx: Req(path=_deal_path(ctx))),
    Rule(
        "PATCH",
        "/api/deals/{deal_id}",
        CRM_WRITE,
        lambda ctx: Req(path=_deal_path(ctx), json={"deal_stage": "Negotiation"}),
    ),
    Rule("DELETE", "/api/deals/{deal_id}", CRM_WRITE, lambda ctx: Req(path=_deal_path(ctx))),
    Rule("GET", "/api/reports/deal-aggregations", CRM_READ),
    Rule(
        "POST",
        "/api/reports/deal-aggregations/compute",
        CRM_WRITE,
        lambda ctx: Req(json={"kinds": ["monthly"]}),
    ),
    # --- billing (contracts, rate groups, rates, CDRs, invoices) -------------
    Rule("GET", "/api/contracts", BILLING_READ),
    Rule(
        "POST",
        "/api/contracts",
        BILLING_WRITE,
        lambda ctx: Req(
            json={
                "company_name": "PT Baru",
                "accountcode": factories.unique("NEW"),
                "rate_group_id": factories.rate_group(ctx.session).id,
            }
        ),
    ),
    Rule(
        "GET",
        "/api/contracts/{contract_id}",
        BILLING_READ,
        lambda ctx: Req(path=f"/api/contracts/{_contract_of(ctx).id}"),
    ),
    Rule(
        "PATCH",
        "/api/contracts/{contract_id}",
        BILLING_WRITE,
        lambda ctx: Req(
            path=f"/api/contracts/{factories.contract(ctx.session).id}", json={"tax_rate": "12"}
        ),
    ),
    Rule(
        "DELETE",
        "/api/contracts/{contract_id}",
        BILLING_WRITE,
        lambda ctx: Req(path=f"/api/contracts/{factories.contract(ctx.session).id}"),
    ),
    Rule("GET", "/api/rate-groups", STAFF),
    Rule(
        "POST",
        "/api/rate-groups",
        BILLING_WRITE,
        lambda ctx: Req(json={"name": factories.unique("G")}),
    ),
    Rule(
        "GET",
        "/api/rate-groups/{rate_group_id}",
        STAFF,
        lambda ctx: Req(path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}"),
    ),
    Rule(
        "PATCH",
        "/api/rate-groups/{rate_group_id}",
        BILLING_WRITE,
        lambda ctx: Req(
            path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}", json={"memo": "m"}
        ),
    ),
    Rule(
        "DELETE",
        "/api/rate-groups/{rate_group_id}",
        BILLING_WRITE,
        lambda ctx: Req(path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}"),
    ),
    Rule(
        "GET",
        "/api/rate-groups/{rate_group_id}/rates",
        STAFF,
        lambda ctx: Req(path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}/rates"),
    ),
    Rule(
        "POST",
        "/api/rate-groups/{rate_group_id}/rates",
        BILLING_WRITE,
        lambda ctx: Req(
            path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}/rates",
            json=_rate_json(),
        ),
    ),
    Rule(
        "POST",
        "/api/rate-groups/{rate_group_id}/rates/upload",
        BILLING_WRITE,
        lambda ctx: Req(
            path=f"/api/rate-groups/{factories.rate_group(ctx.session).id}/rates/upload",
            files={
                "file": (
                    "deck.csv",
                    b"rate_prefix,rate_type,billing_rate,billing_cycle\n62,per_minute,1000,60\n",
                    "text/csv",
                )
            },
        ),
    ),
    Rule(
        "GET",
        "/api/rates/{rate_id}",
        STAFF,
        lambda ctx: Req(path=f"/api/rates/{factories.rate(ctx.session).id}"),
    ),
    Rule(
        "PATCH",
        "/api/rates/{rate_id}",
        BILLING_WRITE,
        lambda ctx: Req(
            path=f"/api/rates/{factories.rate(ctx.session).id}", json={"description": "Indonesia"}
        ),
    ),
    Rule(
        "DELETE",
        "/api/rates/{rate_id}",
        BILLING_WRITE,
        lambda ctx: Req(path=f"/api/rates/{factories.rate(ctx.session).id}"),
    ),
    Rule("GET", "/api/cdrs", BILLING_READ),
    Rule(
        "GET",
        "/api/cdrs/{cdr_id}",
        BILLING_READ,
        lambda ctx: Req(
            path=f"/api/cdrs/{factories.cdr(ctx.session, _contract_of(ctx), cost='10').id}"
        ),
    ),
    Rule("GET", "/api/invoices", BILLING_READ),
    Rule(
        "GET",
        "/api/billing/reconciliation",
        BILLING_WRITE,
        lambda ctx: Req(params={"year": 2025, "month": 11}),
    ),
    Rule(
        "POST",
        "/api/invoices/generate",
        BILLING_WRITE,
        lambda ctx: Req(json={"year": 2025, "month": 11}),
    ),
    Rule("GET", "/api/invoices/{invoice_id}", BILLING_READ, _invoice_path(InvoiceStatus.DRAFT)),
    Rule(
        "GET",
        "/api/invoices/{invoice_id}/pdf",
        BILLING_READ,
        _invoice_path(InvoiceStatus.SENT, "/pdf"),
    ),
    Rule(
        "POST",
        "/api/invoices/{invoice_id}/send",
        BILLING_WRITE,
        _invoice_path(InvoiceStatus.DRAFT, "/send"),
    ),
    Rule(
        "POST",
        "/api/invoices/{invoice_id}/request-payment",
        frozenset({"admin", "customer"}),
        _invoice_path(InvoiceStatus.SENT, "/request-payment"),
    ),
    Rule(
        "POST",
        "/api/invoices/{invoice_id}/approve",
        ADMIN,
        _invoice_path(InvoiceStatus.PENDING_APPROVAL, "/approve"),
    ),
    Rule("GET", "/api/cdrs/imports", CDR_READ),
    Rule("GET", "/api/cdrs/rejects", CDR_READ),
    # --- CDR management (sources, fetch, push, sync) ------------------------
    Rule("GET", "/api/cdrs/statuses", CDR_READ),
    Rule("POST", "/api/cdrs/sync", CDR_MANAGE),
    Rule("POST", "/api/cdrs/sync/requeue", CDR_MANAGE, lambda ctx: Req(json={"cdr_ids": []})),
    Rule("GET", "/api/cdrs/sync-log", CDR_READ),
    Rule("GET", "/api/cdr-sources", CDR_MANAGE),
    Rule(
        "POST",
        "/api/cdr-sources",
        CDR_MANAGE,
        lambda ctx: Req(json={"name": factories.unique("pbx-"), "type": "push"}),
    ),
    Rule(
        "GET",
        "/api/cdr-sources/{source_id}",
        CDR_MANAGE,
        lambda ctx: Req(path=f"/api/cdr-sources/{_push_source(ctx).id}"),
    ),
    Rule(
        "PATCH",
        "/api/cdr-sources/{source_id}",
        CDR_MANAGE,
        lambda ctx: Req(path=f"/api/cdr-sources/{_push_source(ctx).id}", json={"enabled": False}),
    ),
    Rule(
        "DELETE",
        "/api/cdr-sources/{source_id}",
        CDR_MANAGE,
        lambda ctx: Req(path=f"/api/cdr-sources/{_push_source(ctx).id}"),
    ),
    Rule(
        "GET",
        "/api/cdr-sources/{source_id}/runs",
        CDR_MANAGE,
        lambda ctx: Req(path=f"/api/cdr-sources/{_push_source(ctx).id}/runs"),
    ),
    Rule(
        "POST",
        "/api/cdrs/push",
        frozenset({"admin", "pbx"}),
        lambda ctx: Req(
            params={"source": _push_source(ctx).name},
            json={
                "cdrs": [
                    {
                        "call_id": factories.unique("push-"),
                        "src": "1001",
                        "dst": "1002",
                        "start_time": "2025-11-05T09:30:00+07:00",
                        "duration": 5,
                        "billsec": 3,
                        "disposition": "ANSWERED",
                    }
                ]
            },
        ),
    ),
    Rule(
        "GET",
        "/api/cdrs/fetch",
        CDR_MANAGE,
        lambda ctx: Req(
            params={
                "source": _push_source(ctx).name,
                "startDate": "2025-11-01",
                "endDate": "2025-11-30",
            }
        ),
    ),
    # --- background jobs ----------------------------------------------------------
    Rule("GET", "/api/jobs", BILLING_WRITE),
    Rule("GET", "/api/jobs/{job_id}", BILLING_WRITE, lambda ctx: Req(path=_job_path(ctx))),
    Rule("POST", "/api/jobs/rating", BILLING_WRITE, lambda ctx: Req(json={"first": "2025-11-01"})),
    Rule(
        "POST",
        "/api/jobs/invoice-drafts",
        BILLING_WRITE,
        lambda ctx: Req(json={"year": 2025, "month": 11}),
    ),
]


def _job_path(ctx: Ctx) -> str:
    job = Job(kind="validate", arguments={}, trigger="test")
    ctx.session.add(job)
    ctx.session.flush()
    return f"/api/jobs/{job.id}"
