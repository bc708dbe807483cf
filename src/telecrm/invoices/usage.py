"""The invoices' answer to the contracts below: how many invoices a contract has
(see ``telecrm.usage``)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecrm.contracts import usage as contract_usage
from telecrm.invoices.models import Invoice


@contract_usage.invoice_count.answer_with
def invoice_count(session: Session, contract_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.contract_id == contract_id)
        )
        or 0
    )
