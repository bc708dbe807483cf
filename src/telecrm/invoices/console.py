"""The invoice table printed by the commands and by the demo: a console printer, not
a command, so that whatever prints invoices needs no CLI module."""

from __future__ import annotations

from collections.abc import Sequence

from telecrm.console import print_table
from telecrm.invoices.models import Invoice
from telecrm.invoices.schemas import InvoiceRead


def print_invoices(title: str, invoices: Sequence[Invoice]) -> None:
    """Call with the session open: an adjustment names the invoice it adjusts."""
    rows = [InvoiceRead.model_validate(invoice) for invoice in invoices]
    print_table(
        title,
        [
            "number",
            "accountcode",
            "period",
            "kind",
            "calls",
            "subtotal",
            "tax",
            "amount",
            "currency",
            "status",
            "due date",
        ],
        [
            (
                r.invoice_number,
                r.accountcode,
                r.period,
                f"adjusts {r.original_invoice.invoice_number}" if r.original_invoice else r.kind,
                f"{r.call_count:,}",
                f"{r.subtotal:,}",
                f"{r.tax:,}",
                f"{r.amount:,}",
                r.currency,
                r.status.value,
                r.due_date,
            )
            for r in rows
        ],
    )
