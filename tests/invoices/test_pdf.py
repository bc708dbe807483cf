"""The invoice PDF: its sections, read back from the PDF's text."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.config import Settings
from telecrm.contracts.scope import EVERYTHING
from telecrm.invoices import service
from telecrm.invoices.models import Invoice, InvoiceKind
from telecrm.invoices.service import Transition
from tests import factories

NOV = dt.datetime(2025, 11, 10, 9, tzinfo=dt.UTC)
DEC = dt.datetime(2025, 12, 10, 9, tzinfo=dt.UTC)


def _text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _late_november(session: Session, settings: Settings) -> tuple[Invoice, Invoice | None]:
    """November sent; then two November calls arrive, and December has its own."""
    group = factories.rate_group(session)
    mobile = factories.rate(session, group, "62812", description="Indonesia Mobile Telkomsel")
    fixed = factories.rate(session, group, "6221", description="Jakarta Fixed")
    contract = factories.contract(session, group, tax_rate="11")
    factories.cdr(session, contract, NOV, mobile, cost="100")
    service.generate(session, 2025, 11, settings)
    november = session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).one()
    service.transition(session, EVERYTHING, november.id, Transition.SEND)
    for cost in ("1000.25", "500.25"):
        factories.cdr(session, contract, NOV, mobile, cost=cost, billsec=61, billable_seconds=120)
    factories.cdr(session, contract, DEC, mobile, cost="2400", billsec=90, billable_seconds=120)
    factories.cdr(session, contract, DEC, fixed, cost="900.25", billsec=30, billable_seconds=60)
    service.generate(session, 2025, 12, settings)
    later = session.scalars(
        select(Invoice).where(Invoice.contract_id == contract.id, Invoice.id != november.id)
    ).all()
    return november, (later[0] if later else None)


def test_the_calls_of_earlier_periods_are_a_section_with_its_subtotal(
    db_session: Session, settings: Settings
) -> None:
    november, december = _late_november(db_session, settings)
    assert december is not None and december.kind == InvoiceKind.MONTHLY

    _, content = service.invoice_pdf(db_session, EVERYTHING, december.id, settings)

    text = _text(content)
    for expected in [
        "DRAFT INVOICE",
        "Calls of 1 December 2025 – 31 December 2025",
        "2 billed calls.",
        "Calls of December 2025 2 3.00 3,300.25",  # the month's own subtotal
        "Calls of earlier periods",
        f"November 2025 · after invoice {november.invoice_number}",
        "Indonesia Mobile Telkomsel 62812 2 4.00 1,500.50",
        "Calls of earlier periods 2 4.00 1,500.50",  # the section's subtotal
        "4,800.75",  # subtotal: 2400 + 900.25 + 1000.25 + 500.25, rounded once
        "528.08",  # 11 % of it
        "5,328.83",
    ]:
        assert expected in text, expected


def test_an_adjustment_is_a_debit_note_of_the_invoice_it_adjusts(
    db_session: Session, settings: Settings
) -> None:
    by_adjustment = settings.model_copy(update={"late_calls": "adjustment"})
    november, _ = _late_november(db_session, by_adjustment)
    adjustment = db_session.scalars(
        select(Invoice).where(Invoice.kind == InvoiceKind.ADJUSTMENT)
    ).one()

    _, content = service.invoice_pdf(db_session, EVERYTHING, adjustment.id, settings)

    text = _text(content)
    for expected in [
        "DRAFT DEBIT NOTE",
        f"Adjusts {november.invoice_number}",
        f"Calls of 1 November 2025 – 30 November 2025 not on invoice {november.invoice_number}",
        "Indonesia Mobile Telkomsel 62812 2 4.00 1,500.50",
        f"Debit note {adjustment.invoice_number}",  # the footer
        "165.06",  # 11 % of 1,500.50 = 165.055, rounded once
        "1,665.56",
    ]:
        assert expected in text, expected
    assert "Calls of earlier periods" not in text
    assert " · after invoice" not in text  # the section's title says which month it is
