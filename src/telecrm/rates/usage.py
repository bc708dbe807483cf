"""What rates ask of the data built on them: a rate that rated calls keeps its
price and stays (answered by ``telecrm.cdrs.usage``); a rate group stays while
contracts use it (answered by ``telecrm.contracts.usage``)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session

from telecrm.usage import UsageCheck

used_rate_ids: UsageCheck[Callable[[Session, Collection[int]], set[int]]] = UsageCheck(
    "which of these rates rated calls?"
)
group_has_used_rates: UsageCheck[Callable[[Session, int], bool]] = UsageCheck(
    "did a rate of this rate group rate calls?"
)
# rate group id -> its number of contracts; a group no contract uses is left out
contract_counts: UsageCheck[Callable[[Session, Collection[int]], dict[int, int]]] = UsageCheck(
    "how many contracts use each of these rate groups?"
)
