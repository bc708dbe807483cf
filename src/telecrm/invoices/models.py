from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telecrm.db import Base, Money, TimestampMixin, UTCDateTime, enum_column_type

AMOUNT_SCALE = 4  # invoice amounts are rounded to the currency's minor unit (0 to 3 places)


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PENDING_APPROVAL = "pending_approval"
    PAID = "paid"


# A sent invoice locks its calls: they are final, never rated again, and a call of its
# month that arrives later is billed on a later invoice. One rule for the invoices and
# for the rating run (telecrm.cdrs.rating_run), which reads it.
SENT_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.PAID)


class InvoiceKind(enum.StrEnum):
    MONTHLY = "monthly"
    # a debit note: calls of a month that arrived after its invoice was sent
    ADJUSTMENT = "adjustment"


class Invoice(TimestampMixin, Base):
    """One contract's bill for one month (RATING.md §5). ``period_start`` and
    ``period_end`` (exclusive) are the month's boundaries in the billing time zone,
    stored as UTC instants.

    An ``adjustment`` bills calls of its month that arrived after the month's invoice
    (``original_invoice_id``) was sent; a month has one monthly invoice per contract
    and any number of adjustments."""

    __tablename__ = "invoices"
    __table_args__ = (
        Index(
            "uq_invoices_monthly_contract_id_period_start",
            "contract_id",
            "period_start",
            unique=True,
            postgresql_where=text("kind = 'monthly'"),
            sqlite_where=text("kind = 'monthly'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_number: Mapped[str] = mapped_column(String(30), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="RESTRICT"))
    accountcode: Mapped[str] = mapped_column(String(80), index=True)
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Money(scale=AMOUNT_SCALE))
    tax_rate: Mapped[Decimal] = mapped_column(Money(scale=4, precision=9))
    tax: Mapped[Decimal] = mapped_column(Money(scale=AMOUNT_SCALE))
    amount: Mapped[Decimal] = mapped_column(Money(scale=AMOUNT_SCALE))
    call_count: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column_type(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT, index=True
    )
    kind: Mapped[InvoiceKind] = mapped_column(
        enum_column_type(InvoiceKind, "invoice_kind"), server_default=InvoiceKind.MONTHLY.value
    )
    # A monthly invoice that also bills its contract's calls of earlier months whose
    # invoice was already sent (TELECRM_LATE_CALLS=next_invoice when it was generated):
    # sending it links those too.
    bills_earlier_periods: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # NO ACTION, not RESTRICT: an invoice referred to cannot be deleted, yet a table
    # can be emptied in one statement (checked at its end)
    original_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payment_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    original_invoice: Mapped[Invoice | None] = relationship(
        remote_side=[id], foreign_keys=[original_invoice_id], viewonly=True, lazy="selectin"
    )


class InvoiceLine(Base):
    """Calls to one destination on one invoice. ``amount`` is the exact sum of the
    calls' costs; the invoice's subtotal is that sum over all lines, rounded once.

    A line of the section "calls of earlier periods" names the sent invoice of the
    calls' month (``original_invoice_id``): they arrived after it was sent. Sending
    the invoice links them, as it links the calls of its own month."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str | None] = mapped_column(String(40))
    call_count: Mapped[int] = mapped_column(BigInteger)
    billable_seconds: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Money(scale=6))
    original_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))

    original_invoice: Mapped[Invoice | None] = relationship(
        foreign_keys=[original_invoice_id], viewonly=True, lazy="selectin"
    )


class InvoiceSequence(Base):
    """The last invoice number given out in a year: numbers are sequential per
    year and never reused (INV-2025-000123)."""

    __tablename__ = "invoice_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
