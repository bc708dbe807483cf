"""The invoices' answers to the layers below: how many invoices a contract has, and
which calls' ratings a sent invoice locks (see ``telecrm.usage``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.rating_run import usage as rating_run_usage
from telecrm.contracts import usage as contract_usage
from telecrm.invoices.models import SENT_STATUSES, Invoice


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
