"""The billing pages in process (no browser): form errors by the field, refusals shown
readable, what a role may not do is not offered, the customer's scope."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role, User
from telecrm.config import Settings
from telecrm.invoices.models import InvoiceStatus
from telecrm.rates import service as rates_service
from telecrm.web.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from tests import factories

CSRF = "pages-csrf-token"
Browser = Callable[..., TestClient]


@pytest.fixture()
def browser_as(app: FastAPI, db_session: Session, settings: Settings) -> Browser:
    """``browser_as(Role.BILLING)``: a client with that user's session and CSRF cookies."""

    def make(role: Role, user: User | None = None) -> TestClient:
        user = user or factories.user(db_session, role=role)
        client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
        client.cookies.set(SESSION_COOKIE, factories.bearer(user, settings)["Authorization"][7:])
        client.cookies.set(CSRF_COOKIE, CSRF)
        return client

    return make


def _form(**fields: str) -> dict[str, str]:
    return {CSRF_FIELD: CSRF, **fields}


def test_a_contract_form_shows_each_problem_next_to_its_field(
    browser_as: Browser, db_session: Session
) -> None:
    taken = factories.contract(db_session)
    client = browser_as(Role.BILLING)
    response = client.post(
        "/contracts/new",
        data=_form(company_name="PT Form", accountcode="has space", currency="XXX", tax_rate="101"),
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="e-accountcode"' in html and 'id="e-currency"' in html
    assert 'id="e-tax_rate"' in html and 'id="e-rate_group_id"' in html
    assert "unknown currency" in html
    assert 'value="PT Form"' in html  # what was typed is kept

    refused = client.post(
        "/contracts/new",
        data=_form(
            company_name="PT Twice",
            accountcode=taken.accountcode,
            rate_group_id=str(taken.rate_group_id),
            status="active",
            currency="IDR",
            tax_rate="11",
            payment_terms_days="30",
        ),
    )
    assert refused.status_code == 409
    assert 'id="e-accountcode"' in refused.text
    assert f"accountcode {taken.accountcode} is already contract {taken.id}" in refused.text


def test_editing_a_contract_saves_it_and_refuses_an_emptied_required_field(
    browser_as: Browser, db_session: Session
) -> None:
    contract = factories.contract(db_session)
    client = browser_as(Role.BILLING)
    form = client.get(f"/contracts/{contract.id}/edit")
    assert form.status_code == 200 and f'value="{contract.accountcode}"' in form.text
    fields = {
        "company_name": "PT Renamed",
        "accountcode": contract.accountcode,
        "rate_group_id": str(contract.rate_group_id),
        "status": "suspended",
        "currency": "IDR",
        "tax_rate": "11",
        "payment_terms_days": "14",
    }
    saved = client.post(f"/contracts/{contract.id}/edit", data=_form(**fields))
    assert saved.status_code == 303 and saved.headers["location"] == f"/contracts/{contract.id}"
    page = client.get(f"/contracts/{contract.id}").text
    assert "PT Renamed" in page and "suspended" in page and "14 days" in page
    emptied = client.post(
        f"/contracts/{contract.id}/edit", data=_form(**{**fields, "company_name": ""})
    )
    assert emptied.status_code == 422
    assert "company_name: may not be empty" in emptied.text


def test_a_viewer_is_offered_no_change(browser_as: Browser, db_session: Session) -> None:
    contract = factories.contract(db_session)
    factories.rate(db_session, factories.rate_group(db_session))
    invoice = factories.invoice(db_session, contract, status=InvoiceStatus.DRAFT)
    viewer = browser_as(Role.VIEWER)
    pages = {
        "/contracts": ["New contract"],
        f"/contracts/{contract.id}": ["/edit", "Add customer user"],
        "/rate-groups": ["Create rate group"],
        f"/rate-groups/{contract.rate_group_id}": ["Upload rate deck", "Change price"],
        "/invoices": ["Generate invoices"],
        f"/invoices/{invoice.id}": ["Send invoice", "Approve payment"],
    }
    for path, absent in pages.items():
        response = viewer.get(path)
        assert response.status_code == 200, path
        for text in absent:
            assert text not in response.text, f"{path} offers {text!r} to a viewer"
    # and the clerk is offered them
    clerk = browser_as(Role.BILLING)
    assert "Send invoice" in clerk.get(f"/invoices/{invoice.id}").text
    assert "New contract" in clerk.get("/contracts").text
    # the upload and billing pages are not a viewer's
    assert viewer.get("/calls/upload").status_code == 403
    assert viewer.get("/billing").status_code == 403


def test_a_refused_step_of_the_invoice_flow_is_shown_readable(
    browser_as: Browser, db_session: Session
) -> None:
    invoice = factories.invoice(db_session, status=InvoiceStatus.SENT)
    response = browser_as(Role.BILLING).post(f"/invoices/{invoice.id}/send", data=_form())
    assert response.status_code == 409
    assert (
        f"invoice {invoice.invoice_number}: the invoice is sent; only a draft invoice can be sent"
        in response.text
    )
    assert 'role="alert"' in response.text


def test_a_customer_sees_only_its_own_invoices(browser_as: Browser, db_session: Session) -> None:
    own = factories.contract(db_session)
    mine = factories.invoice(db_session, own, status=InvoiceStatus.SENT)
    theirs = factories.invoice(db_session, status=InvoiceStatus.SENT)
    customer = browser_as(Role.CUSTOMER, factories.customer(db_session, own))
    listing = customer.get("/portal/invoices").text
    assert mine.invoice_number in listing and theirs.invoice_number not in listing
    for path in ("", "/pdf"):
        assert customer.get(f"/portal/invoices/{theirs.id}{path}").status_code == 404
    paid = customer.post(f"/portal/invoices/{theirs.id}/request-payment", data=_form())
    assert paid.status_code == 404
    assert customer.get(f"/invoices/{mine.id}").status_code == 403  # staff pages are not its


def test_a_price_change_ends_the_rate_and_starts_the_new_price_there(
    browser_as: Browser, db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, billing_rate=Decimal(1000))
    client = browser_as(Role.BILLING)
    form = client.get(f"/rate-groups/{group.id}?change={rate.id}")
    assert "Change the price of 62" in form.text
    missing = client.post(f"/rates/{rate.id}/price", data=_form(billing_rate="abc"))
    assert missing.status_code == 422
    assert 'id="e-billing_rate"' in missing.text and 'id="e-effective_from"' in missing.text
    changed = client.post(
        f"/rates/{rate.id}/price",
        data=_form(billing_rate="1250", effective_from="2030-01-01T00:00"),
    )
    assert changed.status_code == 303
    rates = rates_service.list_rates(db_session, group.id, settings.tz)
    assert [(r.billing_rate, r.effective_to is None) for r in rates] == [
        (Decimal(1000), False),
        (Decimal(1250), True),
    ]
    assert rates[0].effective_to == rates[1].effective_from
    again = client.post(
        f"/rates/{rates[0].id}/price",
        data=_form(billing_rate="1300", effective_from="2031-01-01T00:00"),
    )
    assert again.status_code == 422 and "already ends before that instant" in again.text


def test_a_cdr_upload_shows_its_summary_and_rejects(
    browser_as: Browser, db_session: Session
) -> None:
    contract = factories.contract(db_session)
    good = (
        f'"{contract.accountcode}","1001","08123456789","from-internal","","SIP/1","SIP/2",'
        '"Dial","","2025-11-05 09:00:00","2025-11-05 09:00:07","2025-11-05 09:01:08",68,61,'
        '"ANSWERED","DOCUMENTATION"\n'
    )
    content = good + '"too","few","columns"\n'
    client = browser_as(Role.BILLING)
    response = client.post(
        "/calls/upload",
        files={"file": ("Master.csv", content)},
        data=_form(format="asterisk-csv", timezone="Asia/Jakarta"),
    )
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert "Master.csv" in html and "Asia/Jakarta" in html
    assert 'Calls imported</th><td class="num">1<' in html
    assert 'Rejected rows</th><td class="num">1<' in html
    assert "&#34;too&#34;,&#34;few&#34;" in html or '"too","few"' in html
    zone = client.post(
        "/calls/upload",
        files={"file": ("Master.csv", content)},
        data=_form(format="asterisk-csv", timezone="Mars/Base"),
    )
    assert zone.status_code == 422 and "unknown time zone" in zone.text
