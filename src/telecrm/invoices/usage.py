"""The invoices' answers to the layers below: how many invoices a contract has, which
calls' ratings a sent invoice locks, which unpaid invoices hold a month of calls (see
``telecrm.usage``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import CdrRating
from telecrm.cdrs.partitions import usage as partition_usage
from telecrm.cdrs.rating_run import usage as rating_run_usage
from telecrm.contracts import usage as contract_usage
from telecrm.invoices.models import SENT_STATUSES, Invoice, InvoiceStatus


@contract_usage.invoice_count.answer_with
def invoice_count(session: Session, contract_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.contract_id == contract_id)
        )
        or 0
    )


@rating_run_usage.not_locked_by_invoice.answer_with
def not_on_a_sent_invoice(invoice_id: SQLColumnExpression[Any]) -> ColumnElement[bool]:
    """A sent invoice locks its calls: the rule of ``SENT_STATUSES``, as a clause. The
    statuses go as plain text: the rating run's PostgreSQL read (COPY) sends the
    clause's parameters to the driver as they are, past the column type."""
    sent = [status.value for status in SENT_STATUSES]
    return ~exists().where(Invoice.id == invoice_id, Invoice.status.in_(sent))


@partition_usage.unpaid_invoices_of_window.answer_with
def unpaid_invoices_of_window(
    session: Session, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, str]]:
    """The invoices not paid that hold calls of ``[start, end)`` (linked when sent),
    or whose period overlaps it (a draft's calls are linked only when it is sent):
    their numbers and statuses."""
    linked = (
        select(CdrRating.invoice_id)
        .where(
            CdrRating.start_time >= start,
            CdrRating.start_time < end,
            CdrRating.invoice_id.is_not(None),
        )
        .distinct()
    )
    rows = session.execute(
        select(Invoice.invoice_number, Invoice.status)
        .where(
            Invoice.status != InvoiceStatus.PAID,
            or_(
                Invoice.id.in_(linked),
                and_(Invoice.period_start < end, Invoice.period_end > start),
            ),
        )
        .order_by(Invoice.invoice_number)
    ).all()
    return [(number, InvoiceStatus(status).value) for number, status in rows]
