"""Seed 004 in a real browser: the admin sets up a rate group, a rate deck, a contract
with its customer user, imports a Master.csv, processes billing, generates and sends
the month's invoices; the customer opens the invoice, downloads its PDF and requests
payment; the admin approves. Then two refusals: another customer's invoice (404) and
a bad rate deck (every bad line shown, nothing imported)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.db import unit_of_work
from tests import factories
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations, sign_in

MASTER_CSV = Path(__file__).parents[1] / "fixtures" / "cdrs" / "Master-16.csv"
DECK = (
    "rate_prefix,area_prefix,description,rate_type,billing_rate,billing_cycle\n"
    "62,812,Indonesia Mobile Telkomsel,per_minute,1500,60\n"
    "62,21,Jakarta,per_minute,450.5,60\n"
)


def _accessible(page: Any, where: str) -> None:
    assert serious_accessibility_violations(page) == [], where


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    page.wait_for_url("**/login")


def _status(page: Any) -> str:
    return str(page.locator("#invoice-status").inner_text())


def test_seed_004_from_rate_group_to_a_paid_invoice(page: Any, live_server: LiveServer) -> None:
    code = factories.unique("FLOW")
    admin = live_server.user("admin-flow@browser.test", Role.ADMIN)
    sign_in(page, admin)

    # A rate group and its rate deck.
    page.goto("/rate-groups")
    _accessible(page, "rate groups")
    page.get_by_label("Name").fill(f"Retail {code}")
    page.get_by_role("button", name="Create rate group").click()
    page.wait_for_url(re.compile(r"/rate-groups/\d+$"))
    page.get_by_label("Rate deck").set_input_files(
        {"name": "retail.csv", "mimeType": "text/csv", "buffer": DECK.encode()}
    )
    page.get_by_role("button", name="Upload rate deck").click()
    page.get_by_text("Rate deck retail.csv imported: 2 rates added").wait_for()
    assert page.get_by_role("cell", name="Indonesia Mobile Telkomsel").is_visible()
    _accessible(page, "rate group")

    # The contract, on that group, and its customer user.
    page.goto("/contracts/new")
    page.get_by_label("Company name").fill(f"PT {code}")
    page.get_by_label("Account code").fill(code)
    page.get_by_label("Rate group").select_option(label=f"Retail {code}")
    page.get_by_label("Tax rate (percent)").fill("11")
    _accessible(page, "contract form")
    page.get_by_role("button", name="Create contract").click()
    page.wait_for_url(re.compile(r"/contracts/\d+$"))
    customer = f"{code.lower()}@customer.test"
    page.get_by_label("E-mail").fill(customer)
    page.get_by_label("Password").fill("browser-test-Passw0rd!")
    page.get_by_role("button", name="Add customer user").click()
    page.get_by_role("cell", name=customer).wait_for()
    _accessible(page, "contract")

    # The PBX's Master.csv, for this account code.
    master = MASTER_CSV.read_bytes().replace(b'"ACME01"', f'"{code}"'.encode())
    page.goto("/calls/upload")
    _accessible(page, "upload")
    page.get_by_label("Format").select_option("asterisk-csv")
    page.get_by_label("CDR file").set_input_files(
        {"name": "Master.csv", "mimeType": "text/csv", "buffer": master}
    )
    page.get_by_role("button", name="Upload and import").click()
    summary = page.locator("#import-summary")
    summary.wait_for()
    assert "Master.csv" in summary.inner_text()
    assert page.get_by_role("row", name="Calls imported 3").is_visible()

    # Rate November, then its invoices.
    page.goto("/billing")
    _accessible(page, "billing")
    page.get_by_label("First day").fill("2025-11-01")
    page.get_by_label("Last day").fill("2025-11-30")
    page.get_by_role("button", name="Process billing").click()
    page.locator("#billing-summary").wait_for()
    assert "2025-11-01 to 2025-11-30" in page.locator("#billing-summary").inner_text()

    page.goto("/invoices")
    page.get_by_label("Year", exact=True).fill("2025")
    page.get_by_label("Month", exact=True).fill("11")
    page.get_by_role("button", name="Generate invoices").click()
    page.get_by_role("heading", name="Invoices of 2025-11 generated").wait_for()
    _accessible(page, "invoices")
    page.get_by_role("row").filter(has_text=code).get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/invoices/\d+$"))
    invoice_url = page.url
    invoice_id = invoice_url.rsplit("/", 1)[1]
    assert _status(page) == "draft"
    page.get_by_role("button", name="Send invoice").click()
    page.wait_for_url(invoice_url)
    assert _status(page) == "sent"
    total = page.locator("#invoice-total").inner_text()
    assert total.endswith(" IDR") and total != "0.00 IDR"
    _accessible(page, "invoice")
    screenshot(page, "invoice")
    _sign_out(page)

    # The customer: the invoice, its PDF, and "I paid".
    sign_in(page, customer)
    page.goto("/portal/invoices")
    _accessible(page, "portal invoices")
    page.get_by_role("link", name=re.compile("^INV-")).first.click()
    page.wait_for_url(f"**/portal/invoices/{invoice_id}")
    assert page.locator("#invoice-total").inner_text() == total
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert total.removesuffix(" IDR") in text
    page.get_by_role("button", name="Request payment").click()
    page.wait_for_url(f"**/portal/invoices/{invoice_id}")
    assert _status(page) == "pending approval"
    _accessible(page, "portal invoice")
    screenshot(page, "portal-invoice")
    _sign_out(page)

    # The admin approves; both read "paid".
    sign_in(page, admin)
    page.goto(invoice_url)
    page.get_by_role("button", name="Approve payment").click()
    page.wait_for_url(invoice_url)
    assert _status(page) == "paid"
    _sign_out(page)
    sign_in(page, customer)
    page.goto(f"/portal/invoices/{invoice_id}")
    assert _status(page) == "paid"


def test_another_customers_invoice_is_not_found(page: Any, live_server: LiveServer) -> None:
    with Session(live_server.engine) as session, unit_of_work(session):
        own = factories.contract(session)
        other = factories.contract(session)
        theirs = factories.invoice(session, other)
        own_code, their_id = own.accountcode, theirs.id
    email = live_server.user(f"{own_code.lower()}@customer.test", Role.CUSTOMER, own_code)
    sign_in(page, email)
    for path in (f"/portal/invoices/{their_id}", f"/portal/invoices/{their_id}/pdf"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        assert (
            page.get_by_role("heading", name="404").count() + page.get_by_text("not found").count()
        )


def test_a_bad_rate_deck_shows_each_bad_line_and_imports_nothing(
    page: Any, live_server: LiveServer
) -> None:
    with Session(live_server.engine) as session, unit_of_work(session):
        group_id = factories.rate_group(session).id
    sign_in(page, live_server.user("clerk-deck@browser.test", Role.BILLING))
    page.goto(f"/rate-groups/{group_id}")
    deck = (
        "rate_prefix,rate_type,billing_rate,billing_cycle\n"
        "62,per_minute,1000,60\n"
        "62x,per_minute,1000,60\n"
        "63,per_hour,1000,60\n"
        "64,per_minute,-5,60\n"
    )
    page.get_by_label("Rate deck").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": deck.encode()}
    )
    page.get_by_role("button", name="Upload rate deck").click()
    refusal = page.get_by_role("alert")
    refusal.get_by_role(
        "heading", name="Rate deck bad.csv refused: nothing was imported"
    ).wait_for()
    lines = refusal.locator("tbody tr td:first-child").all_inner_texts()
    assert lines == ["3", "4", "5"]
    assert "rate_prefix" in refusal.locator("tbody tr").first.inner_text()
    assert page.get_by_role("cell", name="No rates.").is_visible()
    _accessible(page, "refused deck")
