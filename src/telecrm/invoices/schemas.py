from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from telecrm.invoices.arithmetic import billable_minutes, period_label
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from telecrm.money import CURRENCY_EXPONENTS, round_half_up, trim_zeros


class InvoiceSection(enum.StrEnum):
    PERIOD = "period"  # the calls of the invoice's month
    # calls that arrived after the invoice of their month was sent
    EARLIER_PERIODS = "earlier_periods"


class InvoiceReference(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_number: str
    period_start: dt.datetime
    period_end: dt.datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def period(self) -> str:
        return period_label(self.period_start, self.period_end)


class InvoiceLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    description: str
    prefix: str | None
    call_count: int
    billable_seconds: int
    amount: Decimal = Field(description="The exact sum of the calls' costs (6 places).")
    original_invoice: InvoiceReference | None = Field(
        description="Calls of an earlier period: the invoice of their month, sent before "
        "they arrived."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def billable_minutes(self) -> Decimal:
        return billable_minutes(self.billable_seconds)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def section(self) -> InvoiceSection:
        return (
            InvoiceSection.PERIOD
            if self.original_invoice is None
            else InvoiceSection.EARLIER_PERIODS
        )


class InvoiceSectionRead(BaseModel):
    section: InvoiceSection
    call_count: int
    billable_seconds: int
    amount: Decimal = Field(
        description="The exact sum of the section's call costs. The invoice's subtotal is "
        "the sum over all sections, rounded once."
    )


class InvoiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_number: str
    contract_id: int
    accountcode: str
    period_start: dt.datetime = Field(description="First instant of the month (billing time zone).")
    period_end: dt.datetime = Field(description="First instant of the next month (exclusive).")
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    subtotal: Decimal
    tax_rate: Decimal = Field(description="Percent: 11 = 11 %.")
    tax: Decimal
    amount: Decimal = Field(description="The total: subtotal + tax.")
    call_count: int
    status: InvoiceStatus
    kind: InvoiceKind = Field(
        description="monthly, or adjustment: a debit note for calls of its month that "
        "arrived after the month's invoice (original_invoice) was sent."
    )
    original_invoice: InvoiceReference | None
    sent_at: dt.datetime | None
    payment_requested_at: dt.datetime | None
    paid_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def period(self) -> str:
        """The billed month, e.g. ``2025-11``."""
        return period_label(self.period_start, self.period_end)

    @model_validator(mode="after")
    def _amounts_in_minor_units(self) -> InvoiceRead:
        """Stored with 4 places; shown with the currency's (IDR 2, JPY 0, BHD 3).
        Exact: the stored amounts were rounded to the minor unit when generated."""
        places = CURRENCY_EXPONENTS.get(self.currency, 4)
        for field in ("subtotal", "tax", "amount"):
            setattr(self, field, round_half_up(getattr(self, field), places))
        self.tax_rate = trim_zeros(self.tax_rate)
        return self


class InvoiceDetail(InvoiceRead):
    lines: list[InvoiceLineRead] = Field(
        description="The calls of the invoice's month, then those of earlier periods."
    )

    @classmethod
    def of(cls, invoice: Invoice, lines: Sequence[InvoiceLine]) -> InvoiceDetail:
        """The invoice with its lines, its amounts in the currency's minor units."""
        return cls(
            **InvoiceRead.model_validate(invoice).model_dump(exclude={"period"}),
            lines=[InvoiceLineRead.model_validate(line) for line in lines],
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sections(self) -> list[InvoiceSectionRead]:
        """What each section sums; a section without lines is left out."""
        sections: dict[InvoiceSection, InvoiceSectionRead] = {}
        for line in self.lines:
            section = sections.setdefault(
                line.section,
                InvoiceSectionRead(
                    section=line.section, call_count=0, billable_seconds=0, amount=Decimal(0)
                ),
            )
            section.call_count += line.call_count
            section.billable_seconds += line.billable_seconds
            section.amount += line.amount
        return list(sections.values())


class GenerateRequest(BaseModel):
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


class GenerateSummary(BaseModel):
    year: int
    month: int
    period_start: dt.datetime
    period_end: dt.datetime
    created: int = Field(description="New draft invoices.")
    updated: int = Field(description="Drafts generated again.")
    removed: int = Field(description="Drafts of contracts that no longer have rated calls.")
    kept: int = Field(description="Invoices already sent, awaiting approval or paid: untouched.")
    invoiced_calls: int = Field(
        description="Rated calls on no invoice summed on the drafts (linked when sent)."
    )
    late_calls: int = Field(
        description="Rated calls that arrived after their month's invoice was sent and are on "
        "no invoice yet: the contract's next month's invoice will bill them."
    )
    late_calls_on: str = Field(
        description="Where late calls are billed (TELECRM_LATE_CALLS): next_invoice or adjustment."
    )
    late_calls_billed: int = Field(
        description="Late calls put on drafts by this run (linked when those are sent)."
    )
    late_calls_invoice_numbers: list[str] = Field(
        description="The drafts holding them: this month's invoices, or adjustments."
    )
    late_calls_amounts: dict[str, Decimal] = Field(description="Their exact cost per currency.")
    unrated_calls: int = Field(description="Calls of the month that could not be rated.")
    pending_calls: int = Field(
        description="Calls of the month not rated yet (validate, then process-billing)."
    )
    invalid_calls: int = Field(
        default=0,
        description="Calls of the month that validation found unbillable (never rated).",
    )
