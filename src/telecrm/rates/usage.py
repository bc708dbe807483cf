"""What rates ask of the rated calls above them: a rate that rated calls keeps its
price and stays (answered by ``telecrm.cdrs.usage``)."""

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
