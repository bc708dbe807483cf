"""What auth asks of the contracts above it: the contract a customer's user is bound
to, by its account code (answered by ``telecrm.contracts.usage``; see
``telecrm.usage``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.auth.models import BoundContract
from telecrm.usage import UsageCheck

contract_by_accountcode: UsageCheck[Callable[[Session, str], BoundContract | None]] = UsageCheck(
    "which contract has this account code?"
)
