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
from telecrm.cdrs.models import CdrImport
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
    # What an allowed caller gets when it is not a success: the status of a refusal
    # that comes after the role check (e.g. 409 when no external CRM is configured).
    allowed_status: str | None = None


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
    Rule("GET", "/api/health/ready", PUBLIC),
    Rule("GET", "/metrics", ADMIN),
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
    Rule("GET", "/api/reports/deal-aggregations/periods", CRM_READ),
    # The tests' app has no external CRM: an allowed caller gets 409 crm_not_configured
    # (tests/crm/test_routes.py extracts from the fake HubSpot).
    Rule(
        "POST", "/api/crm/extract", CRM_WRITE, lambda ctx: Req(json={"domains": ["deals"]}), "409"
    ),
    Rule("POST", "/api/crm/push", CRM_WRITE, lambda ctx: Req(json={"domains": ["deals"]}), "409"),
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
    Rule("GET", "/api/cdrs/sync/counts", CDR_READ),
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


# --- Pages of the web console ---------------------------------------------------------
# The same roles as the API routes behind them. A page's ``build`` may create what it
# shows; POST rules carry the form (the test adds the CSRF pair for every caller, so
# only the role decides).

PUBLIC_PAGES = {"/login", "/docs", "/docs/oauth2-redirect", "/redoc"}
CUSTOMER = frozenset({"admin", "customer"})


def _source_page(ctx: Ctx, action: str = "") -> str:
    return f"/sources/{_push_source(ctx).id}{action}"


def _sign_in(ctx: Ctx) -> Req:
    user = factories.user(ctx.session, role=Role.VIEWER)
    return Req(data={"email": user.email, "password": factories.PASSWORD})


def _staff_call(ctx: Ctx) -> Req:
    return Req(path=f"/calls/{factories.cdr(ctx.session).id}")


def _import_page(ctx: Ctx) -> Req:
    record = CdrImport(format="asterisk-csv", file_name="Master.csv", timezone="UTC")
    ctx.session.add(record)
    ctx.session.flush()
    return Req(path=f"/calls/imports/{record.id}")


def _own_call(ctx: Ctx) -> Req:
    """A call of the caller's contract (a customer is bound to a new one)."""
    owner = factories.contract(ctx.session)
    if ctx.user is not None and ctx.user.role is Role.CUSTOMER:
        ctx.user.contract_id = owner.id
        ctx.session.flush()
    return Req(path=f"/portal/calls/{factories.cdr(ctx.session, owner, cost='100').id}")


def _new_contract_form(ctx: Ctx) -> Req:
    return Req(
        data={
            "company_name": "PT Rbac",
            "accountcode": factories.unique("RBAC"),
            "rate_group_id": str(factories.rate_group(ctx.session).id),
            "status": "active",
            "currency": "IDR",
            "tax_rate": "11",
            "payment_terms_days": "30",
        }
    )


def _contract_page(action: str = "") -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        contract = factories.contract(ctx.session)
        return Req(path=f"/contracts/{contract.id}{action}")

    return build


def _edit_contract_form(ctx: Ctx) -> Req:
    contract = factories.contract(ctx.session)
    form = {
        "company_name": "PT Renamed",
        "accountcode": contract.accountcode,
        "rate_group_id": str(contract.rate_group_id),
        "status": "active",
        "currency": "IDR",
        "tax_rate": "11",
        "payment_terms_days": "14",
    }
    return Req(path=f"/contracts/{contract.id}/edit", data=form)


def _customer_user_form(ctx: Ctx) -> Req:
    contract = factories.contract(ctx.session)
    email = f"{factories.unique('portal')}@example.com"
    return Req(
        path=f"/contracts/{contract.id}/users",
        data={"email": email, "password": "a long enough password"},
    )


def _rate_group_page(action: str = "") -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        return Req(path=f"/rate-groups/{factories.rate_group(ctx.session).id}{action}")

    return build


def _rate_deck_upload(ctx: Ctx) -> Req:
    deck = "rate_prefix,rate_type,billing_rate,billing_cycle\n62,per_minute,1000,60\n"
    group = factories.rate_group(ctx.session)
    return Req(path=f"/rate-groups/{group.id}/upload", files={"file": ("deck.csv", deck)})


def _price_change(ctx: Ctx) -> Req:
    rate = factories.rate(ctx.session, factories.rate_group(ctx.session))
    form = {"billing_rate": "1500", "effective_from": "2030-01-01T00:00"}
    return Req(path=f"/rates/{rate.id}/price", data=form)


def _cdr_upload(ctx: Ctx) -> Req:
    line = (
        '"RBAC","1001","08123456789","from-internal","","SIP/1","SIP/2","Dial","",'
        '"2025-11-05 09:00:00","2025-11-05 09:00:07","2025-11-05 09:01:08",68,61,'
        '"ANSWERED","DOCUMENTATION"\n'
    )
    name = f"{factories.unique('Master-')}.csv"
    return Req(files={"file": (name, line)}, data={"format": "asterisk-csv"})


def _page_invoice(status: InvoiceStatus, path: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        invoice = factories.invoice(ctx.session, _contract_of(ctx), status=status)
        return Req(path=path.format(id=invoice.id))

    return build


PAGE_RULES: list[Rule] = [
    Rule("GET", "/", frozenset(ALL_ROLES)),
    Rule("GET", "/login", PUBLIC),
    Rule("POST", "/login", PUBLIC, _sign_in),
    Rule("POST", "/logout", PUBLIC),
    Rule("GET", "/docs", PUBLIC),
    Rule("GET", "/docs/oauth2-redirect", PUBLIC),
    Rule("GET", "/redoc", PUBLIC),
    Rule("GET", "/dashboard", STAFF),
    Rule("GET", "/portal", CUSTOMER),
    Rule("GET", "/calls", STAFF),
    Rule("GET", "/calls/export.csv", STAFF),
    Rule("GET", "/calls/imports", CDR_READ),
    Rule("GET", "/calls/imports/{import_id:int}", CDR_READ, _import_page),
    Rule("GET", "/calls/{cdr_id:int}", STAFF, _staff_call),
    Rule("GET", "/portal/calls", CUSTOMER),
    Rule("GET", "/portal/calls/export.csv", CUSTOMER),
    Rule("GET", "/portal/calls/{cdr_id:int}", CUSTOMER, _own_call),
    # --- billing pages --------------------------------------------------------------
    Rule("GET", "/contracts", STAFF),
    Rule("GET", "/contracts/new", BILLING_WRITE),
    Rule("POST", "/contracts/new", BILLING_WRITE, _new_contract_form),
    Rule("GET", "/contracts/{contract_id}", STAFF, _contract_page()),
    Rule("GET", "/contracts/{contract_id}/edit", BILLING_WRITE, _contract_page("/edit")),
    Rule("POST", "/contracts/{contract_id}/edit", BILLING_WRITE, _edit_contract_form),
    Rule("POST", "/contracts/{contract_id}/users", ADMIN, _customer_user_form),
    Rule("GET", "/rate-groups", STAFF),
    Rule(
        "POST", "/rate-groups", BILLING_WRITE, lambda ctx: Req(data={"name": factories.unique("G")})
    ),
    Rule("GET", "/rate-groups/{rate_group_id}", STAFF, _rate_group_page()),
    Rule("POST", "/rate-groups/{rate_group_id}/upload", BILLING_WRITE, _rate_deck_upload),
    Rule("POST", "/rates/{rate_id}/price", BILLING_WRITE, _price_change),
    Rule("GET", "/calls/upload", CDR_MANAGE),
    Rule("POST", "/calls/upload", CDR_MANAGE, _cdr_upload),
    Rule("GET", "/billing", CDR_MANAGE),
    Rule("POST", "/billing", CDR_MANAGE, lambda ctx: Req(data={"first": "2025-11-05"})),
    Rule("GET", "/invoices", STAFF),
    Rule(
        "POST",
        "/invoices/generate",
        BILLING_WRITE,
        lambda ctx: Req(data={"year": "2025", "month": "11"}),
    ),
    Rule(
        "GET", "/invoices/{invoice_id}", STAFF, _page_invoice(InvoiceStatus.DRAFT, "/invoices/{id}")
    ),
    Rule(
        "GET",
        "/invoices/{invoice_id}/pdf",
        STAFF,
        _page_invoice(InvoiceStatus.DRAFT, "/invoices/{id}/pdf"),
    ),
    Rule(
        "POST",
        "/invoices/{invoice_id}/send",
        BILLING_WRITE,
        _page_invoice(InvoiceStatus.DRAFT, "/invoices/{id}/send"),
    ),
    Rule(
        "POST",
        "/invoices/{invoice_id}/approve",
        ADMIN,
        _page_invoice(InvoiceStatus.PENDING_APPROVAL, "/invoices/{id}/approve"),
    ),
    Rule("GET", "/portal/invoices", CUSTOMER),
    Rule(
        "GET",
        "/portal/invoices/{invoice_id}",
        CUSTOMER,
        _page_invoice(InvoiceStatus.SENT, "/portal/invoices/{id}"),
    ),
    Rule(
        "GET",
        "/portal/invoices/{invoice_id}/pdf",
        CUSTOMER,
        _page_invoice(InvoiceStatus.SENT, "/portal/invoices/{id}/pdf"),
    ),
    Rule(
        "POST",
        "/portal/invoices/{invoice_id}/request-payment",
        CUSTOMER,
        _page_invoice(InvoiceStatus.SENT, "/portal/invoices/{id}/request-payment"),
    ),
    # --- sources and the call sync (as /api/cdr-sources, /api/cdrs/sync...) ---------
    Rule("GET", "/sources", CDR_MANAGE),
    Rule("GET", "/sources/new", CDR_MANAGE, lambda ctx: Req(params={"type": "push"})),
    Rule(
        "POST",
        "/sources",
        CDR_MANAGE,
        lambda ctx: Req(data={"type": "push", "name": factories.unique("page-push-")}),
    ),
    Rule("GET", "/sources/{source_id}", CDR_MANAGE, lambda ctx: Req(path=_source_page(ctx))),
    Rule(
        "GET",
        "/sources/{source_id}/edit",
        CDR_MANAGE,
        lambda ctx: Req(path=_source_page(ctx, "/edit")),
    ),
    Rule(
        "POST",
        "/sources/{source_id}",
        CDR_MANAGE,
        lambda ctx: Req(path=_source_page(ctx), data={"enabled": "on"}),
    ),
    Rule(
        "POST",
        "/sources/{source_id}/fetch",
        CDR_MANAGE,
        lambda ctx: Req(path=_source_page(ctx, "/fetch")),
    ),
    Rule(
        "POST",
        "/sources/{source_id}/delete",
        CDR_MANAGE,
        lambda ctx: Req(path=_source_page(ctx, "/delete")),
    ),
    Rule("GET", "/sync", CDR_READ),
    Rule("POST", "/sync/retry-failed", CDR_MANAGE),
    # --- the CRM -----------------------------------------------------------------------
    Rule("GET", "/crm/accounts", CRM_READ),
    Rule("GET", "/crm/contacts", CRM_READ),
    Rule("GET", "/crm/deals", CRM_READ),
    Rule("GET", "/crm/aggregations", CRM_READ),
    Rule("POST", "/crm/aggregations/compute", CRM_WRITE),
    # No CRM configured: an allowed role gets the 409 page, a refused one the 403 first.
    Rule("POST", "/crm/extract", CRM_WRITE, lambda ctx: Req(data={"domain": "deals"}), "409"),
    Rule("POST", "/crm/push", CRM_WRITE, lambda ctx: Req(data={"domain": "deals"}), "409"),
    # --- administration ----------------------------------------------------------------
    Rule("GET", "/admin/users", ADMIN),
    Rule(
        "POST",
        "/admin/users",
        ADMIN,
        lambda ctx: Req(
            data={
                "email": f"{factories.unique('page')}@example.com",
                "password": "a long enough password",
                "role": "viewer",
            }
        ),
    ),
    Rule(
        "GET",
        "/admin/users/{user_id}",
        ADMIN,
        lambda ctx: Req(path=f"/admin/users/{factories.user(ctx.session).id}"),
    ),
    Rule(
        "POST",
        "/admin/users/{user_id}",
        ADMIN,
        lambda ctx: Req(
            path=f"/admin/users/{factories.user(ctx.session).id}",
            data={"action": "role", "role": "sales"},
        ),
    ),
    Rule("GET", "/admin/api-keys", ADMIN),
    Rule("POST", "/admin/api-keys", ADMIN, lambda ctx: Req(data={"name": "pbx-1", "role": "pbx"})),
    Rule(
        "POST",
        "/admin/api-keys/{key_id}/revoke",
        ADMIN,
        lambda ctx: Req(path=f"/admin/api-keys/{factories.api_key(ctx.session)[0].id}/revoke"),
    ),
    Rule("GET", "/admin/audit", ADMIN),
]
