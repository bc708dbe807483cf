"""The invoice API: the status flow by role, its audit trail, a customer's
isolation, the PDF."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.audit.models import AuditEntry
from telecrm.auth.models import Role
from telecrm.cdrs.models import CdrRating
from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.invoices import repository as invoices_repository
from telecrm.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from tests import factories
from tests.concurrency import at_once, meet_after


def test_the_whole_flow_each_step_by_its_role_and_in_the_audit_log(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    invoice = factories.invoice(db_session)
    owner = db_session.get(Contract, invoice.contract_id)
    customer = factories.bearer(factories.customer(db_session, owner), settings)
    path = f"/api/invoices/{invoice.id}"
    billing, admin = auth_headers(Role.BILLING), auth_headers(Role.ADMIN)

    steps = [
        ("/send", billing, "sent", "sent_at"),
        ("/request-payment", customer, "pending_approval", "payment_requested_at"),
        ("/approve", admin, "paid", "paid_at"),
    ]
    for action, headers, status, stamp in steps:
        response = client.post(path + action, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status and response.json()[stamp] is not None

    changes = [
        entry.changes["status"]
        for entry in db_session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "invoices", AuditEntry.object_id == str(invoice.id))
            .order_by(AuditEntry.id)
        )
        if entry.changes and "status" in entry.changes
    ]
    assert changes == [
        ["draft", "sent"],
        ["sent", "pending_approval"],
        ["pending_approval", "paid"],
    ]
    actors = db_session.scalars(
        select(AuditEntry.actor).where(AuditEntry.object_id == str(invoice.id))
    ).all()
    assert any(actor.startswith("user:") and "customer" in actor for actor in actors)


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    [
        (InvoiceStatus.SENT, "/send", "the invoice is sent; only a draft invoice can be sent"),
        (InvoiceStatus.PAID, "/send", "the invoice is paid; only a draft invoice can be sent"),
        (InvoiceStatus.DRAFT, "/approve", "only a pending_approval invoice can be approved"),
        (InvoiceStatus.SENT, "/approve", "only a pending_approval invoice can be approved"),
        (InvoiceStatus.PAID, "/approve", "the invoice is paid"),
        (InvoiceStatus.DRAFT, "/request-payment", "only a sent invoice can be submitted"),
        (InvoiceStatus.PAID, "/request-payment", "the invoice is paid"),
    ],
)
def test_any_other_transition_is_a_conflict_with_the_reason(
    client: TestClient,
    db_session: Session,
    auth_headers: Callable[..., dict[str, str]],
    status: InvoiceStatus,
    action: str,
    reason: str,
) -> None:
    invoice = factories.invoice(db_session, status=status)
    response = client.post(f"/api/invoices/{invoice.id}{action}", headers=auth_headers(Role.ADMIN))
    assert response.status_code == 409
    assert reason in response.json()["error"]
    db_session.refresh(invoice)
    assert invoice.status == status


def test_only_an_admin_approves_and_billing_cannot_request_payment(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    pending = factories.invoice(db_session, status=InvoiceStatus.PENDING_APPROVAL)
    sent = factories.invoice(db_session, status=InvoiceStatus.SENT)
    billing = auth_headers(Role.BILLING)
    assert client.post(f"/api/invoices/{pending.id}/approve", headers=billing).status_code == 403
    assert (
        client.post(f"/api/invoices/{sent.id}/request-payment", headers=billing).status_code == 403
    )


def test_a_customer_cannot_read_or_move_another_contracts_invoice(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    mine = factories.invoice(db_session, status=InvoiceStatus.SENT)
    theirs = factories.invoice(db_session, status=InvoiceStatus.SENT)
    owner = db_session.get(Contract, mine.contract_id)
    headers = factories.bearer(factories.customer(db_session, owner), settings)
    listed = client.get("/api/invoices", headers=headers).json()
    assert [invoice["id"] for invoice in listed] == [mine.id]
    for suffix in ("", "/pdf"):
        assert client.get(f"/api/invoices/{mine.id}{suffix}", headers=headers).status_code == 200
        assert client.get(f"/api/invoices/{theirs.id}{suffix}", headers=headers).status_code == 404
    moved = client.post(f"/api/invoices/{theirs.id}/request-payment", headers=headers)
    assert moved.status_code == 404
    assert moved.json()["code"] == "invoice_not_found"
    db_session.refresh(theirs)
    assert theirs.status == InvoiceStatus.SENT
    listed = client.get(
        "/api/invoices", params={"contract_id": theirs.contract_id}, headers=headers
    )
    assert listed.json() == []


def test_generate_and_read_an_invoice_with_its_lines(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62812", description="Telkomsel")
    contract = factories.contract(db_session, group, tax_rate="11")
    factories.cdr(db_session, contract, rate_obj=rate, cost="1234.5678", billsec=90)
    billing = auth_headers(Role.BILLING)
    summary = client.post(
        "/api/invoices/generate", json={"year": 2025, "month": 11}, headers=billing
    )
    assert summary.status_code == 200, summary.text
    assert summary.json()["created"] == 1
    [listed] = client.get(
        "/api/invoices", params={"year": 2025, "month": 11}, headers=billing
    ).json()
    assert (listed["subtotal"], listed["tax"], listed["amount"]) == ("1234.57", "135.80", "1370.37")
    assert listed["period"] == "2025-11"
    detail = client.get(f"/api/invoices/{listed['id']}", headers=billing).json()
    assert detail["lines"] == [
        {
            "position": 1,
            "description": "Telkomsel",
            "prefix": "62812",
            "call_count": 1,
            "billable_seconds": 90,
            "amount": "1234.567800",
            "original_invoice": None,
            "billable_minutes": "1.50",
            "section": "period",
        }
    ]
    assert detail["sections"] == [
        {"section": "period", "call_count": 1, "billable_seconds": 90, "amount": "1234.567800"}
    ]
    assert (detail["kind"], detail["original_invoice"]) == ("monthly", None)
    only_month = client.get("/api/invoices", params={"month": 11}, headers=billing)
    assert only_month.status_code == 422
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "generate")).one()
    assert audit.object_id == "2025-11" and audit.changes["created"] == 1


def test_sending_a_draft_whose_calls_changed_is_a_conflict_and_links_nothing(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    factories.cdr(db_session, contract, rate_obj=rate, cost="100")
    billing = auth_headers(Role.BILLING)
    generated = client.post(
        "/api/invoices/generate", json={"year": 2025, "month": 11}, headers=billing
    )
    assert generated.status_code == 200, generated.text
    factories.cdr(db_session, contract, rate_obj=rate, cost="5")  # imported late
    [invoice] = db_session.scalars(select(Invoice)).all()

    response = client.post(f"/api/invoices/{invoice.id}/send", headers=billing)

    assert response.status_code == 409
    assert "calls changed since the draft was generated" in response.json()["error"]
    assert "invoices generate" in response.json()["error"]
    db_session.expire_all()
    assert db_session.get(Invoice, invoice.id).status == InvoiceStatus.DRAFT  # type: ignore[union-attr]
    assert (
        db_session.scalars(select(CdrRating.cdr_id).where(CdrRating.invoice_id.is_not(None))).all()
        == []
    )

    client.post("/api/invoices/generate", json={"year": 2025, "month": 11}, headers=billing)
    sent = client.post(f"/api/invoices/{invoice.id}/send", headers=billing)
    assert sent.status_code == 200, sent.text
    assert sent.json()["subtotal"] == "105.00"
    assert (
        len(
            db_session.scalars(
                select(CdrRating.cdr_id).where(CdrRating.invoice_id == invoice.id)
            ).all()
        )
        == 2
    )


def test_the_pdf_has_what_a_customer_needs(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62812", description="Indonesia Mobile Telkomsel")
    contract = factories.contract(
        db_session,
        group,
        company_name="PT Sejahtera Abadi Tbk",
        contact_person="Siti Rahayu",
        address="Jl. Thamrin No. 1\nJakarta Pusat 10310",
        tax_rate="11",
    )
    factories.cdr(db_session, contract, rate_obj=rate, cost="123456.789", billsec=120)
    app_settings = client.app.state.settings  # type: ignore[attr-defined]
    app_settings.invoice_issuer_name = "PT Telekomunikasi Nusantara"
    app_settings.invoice_issuer_tax_id = "01.234.567.8-012.000"
    app_settings.invoice_payment_instructions = "BCA 123-456-7890"
    client.post(
        "/api/invoices/generate",
        json={"year": 2025, "month": 11},
        headers=auth_headers(Role.BILLING),
    )
    invoice = db_session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).one()

    response = client.get(f"/api/invoices/{invoice.id}/pdf", headers=auth_headers(Role.VIEWER))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert invoice.invoice_number in response.headers["content-disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in [
        "PT Telekomunikasi Nusantara",
        "01.234.567.8-012.000",
        "PT Sejahtera Abadi Tbk",
        "Siti Rahayu",
        "Jakarta Pusat 10310",
        invoice.invoice_number,
        "1 December 2025",  # invoice date
        "31 December 2025",  # due date
        "1 November 2025 – 30 November 2025",
        "Indonesia Mobile Telkomsel",
        "123,456.79",  # subtotal
        "13,580.25",  # 11 % tax
        "137,037.04",  # total
        "BCA 123-456-7890",
        "DRAFT",
    ]:
        assert expected in text, expected


@pytest.mark.parametrize(
    ("status", "action", "target", "stamp"),
    [
        (InvoiceStatus.DRAFT, "/send", InvoiceStatus.SENT, "sent_at"),
        (
            InvoiceStatus.SENT,
            "/request-payment",
            InvoiceStatus.PENDING_APPROVAL,
            "payment_requested_at",
        ),
        (InvoiceStatus.PENDING_APPROVAL, "/approve", InvoiceStatus.PAID, "paid_at"),
    ],
)
def test_of_two_concurrent_transitions_one_wins_and_the_other_is_a_conflict(
    committed_db: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    status: InvoiceStatus,
    action: str,
    target: InvoiceStatus,
    stamp: str,
) -> None:
    with Session(committed_db, expire_on_commit=False) as session, session.begin():
        group = factories.rate_group(session)
        rate = factories.rate(session, group)
        contract = factories.contract(session, group)
        call = factories.cdr(session, contract, rate_obj=rate, cost="100")
        invoice = factories.invoice(session, contract, status=status, subtotal="100", call_count=1)
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=1,
                description="Calls",
                call_count=1,
                billable_seconds=60,
                amount=Decimal(100),
            )
        )
        if status != InvoiceStatus.DRAFT:
            factories.rate_cdr(session, call, invoice_id=invoice.id)
        headers = factories.bearer(factories.user(session, role=Role.ADMIN), settings)
    # both requests read the invoice before either moves it
    meet_after(monkeypatch, invoices_repository, "get", parties=2)
    client = TestClient(create_app(settings, committed_db), raise_server_exceptions=False)

    def move() -> Response:
        return client.post(f"/api/invoices/{invoice.id}{action}", headers=headers)

    responses = at_once(move, move)

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    [won] = [r.json() for r in responses if r.status_code == 200]
    [lost] = [r.json() for r in responses if r.status_code == 409]
    assert lost["code"] == "invoice_status_conflict"
    assert f"the invoice is {target.value}" in lost["error"]
    with Session(committed_db) as session:
        stored = session.get_one(Invoice, invoice.id)
        assert stored.status == target
        assert getattr(stored, stamp) == dt.datetime.fromisoformat(won[stamp])
        moves = [
            entry.changes["status"]
            for entry in session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type == "invoices", AuditEntry.object_id == str(invoice.id)
                )
            )
            if entry.changes and "status" in entry.changes
        ]
        assert moves == [[status.value, target.value]]
        assert session.get_one(CdrRating, call.id).invoice_id == invoice.id


@pytest.mark.parametrize("late_calls", ["next_invoice", "adjustment"])
def test_the_calls_of_earlier_periods_are_read_with_the_invoice_and_among_its_calls(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
    late_calls: str,
) -> None:
    client.app.state.settings.late_calls = late_calls  # type: ignore[attr-defined]
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62812", description="Telkomsel")
    contract = factories.contract(db_session, group, tax_rate="0")
    november_call = factories.cdr(db_session, contract, rate_obj=rate, cost="100")
    billing = auth_headers(Role.BILLING)
    customer = factories.bearer(factories.customer(db_session, contract), settings)
    client.post("/api/invoices/generate", json={"year": 2025, "month": 11}, headers=billing)
    [november] = client.get("/api/invoices", headers=billing).json()
    assert client.post(f"/api/invoices/{november['id']}/send", headers=billing).status_code == 200
    late = factories.cdr(
        db_session, contract, rate_obj=rate, cost="2.5", billsec=30, billable_seconds=60
    )
    december_start = november_call.start_time.replace(month=12)
    factories.cdr(db_session, contract, december_start, rate, cost="7.25")

    summary = client.post(
        "/api/invoices/generate", json={"year": 2025, "month": 12}, headers=billing
    ).json()

    assert (summary["late_calls_billed"], summary["late_calls_amounts"]) == (1, {"IDR": "2.500000"})
    [holder_number] = summary["late_calls_invoice_numbers"]
    holder = db_session.scalars(
        select(Invoice).where(Invoice.invoice_number == holder_number)
    ).one()
    detail = client.get(f"/api/invoices/{holder.id}", headers=customer).json()
    reference = {
        "id": november["id"],
        "invoice_number": november["invoice_number"],
        "period_start": november["period_start"],
        "period_end": november["period_end"],
        "period": "2025-11",
    }
    late_line = {
        "position": len(detail["lines"]),
        "description": "Telkomsel",
        "prefix": "62812",
        "call_count": 1,
        "billable_seconds": 60,
        "amount": "2.500000",
        "original_invoice": reference,
        "billable_minutes": "1.00",
        "section": "earlier_periods",
    }
    assert detail["lines"][-1] == late_line
    earlier = {"section": "earlier_periods", "call_count": 1, "billable_seconds": 60}
    if late_calls == "adjustment":
        assert (detail["kind"], detail["original_invoice"]) == ("adjustment", reference)
        assert detail["sections"] == [earlier | {"amount": "2.500000"}]
        assert detail["subtotal"] == "2.50"
    else:
        assert (detail["kind"], detail["original_invoice"], detail["period"]) == (
            "monthly",
            None,
            "2025-12",
        )
        assert [s["section"] for s in detail["sections"]] == ["period", "earlier_periods"]
        assert detail["sections"][1] == earlier | {"amount": "2.500000"}
        assert detail["subtotal"] == "9.75"

    sent = client.post(f"/api/invoices/{holder.id}/send", headers=billing)
    assert sent.status_code == 200, sent.text
    calls = client.get("/api/cdrs", params={"invoice_id": holder.id}, headers=customer).json()
    assert late.id in [call["id"] for call in calls["items"]]
    assert november_call.id not in [call["id"] for call in calls["items"]]
