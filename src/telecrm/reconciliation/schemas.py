from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from telecrm.invoices.models import InvoiceKind, InvoiceStatus


class BucketFigures(BaseModel):
    bucket: str = Field(
        description="new, invalid, pending, unrated, on_draft (the month's draft), on_invoice "
        "(the month's invoice: sent, awaiting approval or paid), late (rated, on no invoice: "
        "arrived after the month's invoice was sent), on_later_draft (late, on the draft of a "
        "later month's invoice or of a debit note of the month), on_later_invoice (late, "
        "linked to a later month's invoice or a debit note), not_invoiced (rated, the month "
        "has no invoice yet)"
    )
    reason: str | None = Field(default=None, description="The unrated reason.")
    calls: int
    money: Decimal | None = Field(description="Exact, in the contract's currency; null: unpriced.")


class InvoiceFiguresRead(BaseModel):
    """An invoice with calls of the month: the month's, a later month's with a section
    of the month's late calls, or a debit note (adjustment) of the month."""

    invoice_number: str
    kind: InvoiceKind
    month: str = Field(description="The month it bills, YYYY-MM (an adjustment: its month).")
    status: InvoiceStatus
    call_count: int
    exact_subtotal: Decimal = Field(description="The sum of its lines, before rounding.")
    month_exact: Decimal = Field(
        description="The sum of its lines of this month's calls: all but a section of "
        "earlier periods on the month's invoice and its debit notes, that section's lines "
        "naming the month's invoice on a later month's."
    )
    subtotal: Decimal
    tax: Decimal
    amount: Decimal


class AccountReconciliation(BaseModel):
    """One contract's calls of the month (or, with no contract, one account code's)."""

    contract_id: int | None
    accountcode: str
    currency: str | None
    calls: int
    buckets: list[BucketFigures] = Field(description="Every call is in exactly one.")
    invalid_findings: dict[str, int] = Field(
        description="How many invalid calls have each finding (a call may have several)."
    )
    rated_calls: int
    rated_at_zero: int
    rated_money: Decimal
    invoices: list[InvoiceFiguresRead]
    invoiced_exact: Decimal = Field(
        description="The invoices' exact sums of this month's calls (month_exact), summed."
    )
    uninvoiced_money: Decimal = Field(description="Rated, on no invoice (late, not invoiced).")
    ties_out: bool = Field(description="rated_money = invoiced_exact + uninvoiced_money")
    problems: list[str]


class ReceivedRead(BaseModel):
    source: str | None
    import_id: int | None
    file_name: str | None
    calls: int = Field(description="The month's calls this source and import stored.")
    duplicates: int | None = Field(description="Duplicates the whole import skipped.")
    rejected: int | None = Field(description="Rows the whole import rejected.")


class Reconciliation(BaseModel):
    year: int
    month: int
    period_start: dt.datetime
    period_end: dt.datetime
    calls: int = Field(description="The month's calls, counted on their own.")
    bucketed_calls: int = Field(description="The calls in the buckets: must equal calls.")
    received: list[ReceivedRead]
    contracts: list[AccountReconciliation]
    no_contract: list[AccountReconciliation] = Field(
        description="Calls whose account code is no contract's, per account code."
    )
    ties_out: bool
    problems: list[str] = Field(description="Where the month does not tie out.")
