"""What contracts ask of the calls and invoices above them: their accountcode is
fixed once used, and a contract that was invoiced stays (answered by
``telecrm.cdrs.usage`` and ``telecrm.invoices.usage``). And what contracts answer
to the rate groups below them: how many contracts use each."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.contracts import repository
from telecrm.rates import usage as rate_usage
from telecrm.usage import UsageCheck

has_calls: UsageCheck[Callable[[Session, int], bool]] = UsageCheck(
    "does this contract have rated calls?"
)
invoice_count: UsageCheck[Callable[[Session, int], int]] = UsageCheck(
    "how many invoices does this contract have?"
)

rate_usage.contract_counts.answer_with(repository.counts_by_rate_group)
