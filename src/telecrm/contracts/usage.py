"""What contracts ask of the calls and invoices above them: their accountcode is
fixed once used, and a contract that was invoiced stays (answered by
``telecrm.cdrs.usage`` and ``telecrm.invoices.usage``). And what contracts answer
to the layers below them: how many contracts use each rate group, and which contract
a customer's user is bound to by its account code (auth)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.auth import usage as auth_usage
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
auth_usage.contract_by_accountcode.answer_with(repository.get_by_accountcode)
