"""The filters of the calls list (the API's and the console's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.contracts.scope import ContractScope
from telecrm.rating.types import RatingStatus

# The lifecycle statuses only a rated or unrated call can have.
RATING_STATES = frozenset({CdrState.RATED.value, CdrState.UNRATED.value, CdrState.INVOICED.value})


@dataclass(frozen=True)
class CdrFilters:
    accountcode: str | None = None
    contract_id: int | None = None
    start_from: dt.datetime | None = None  # inclusive
    start_to: dt.datetime | None = None  # exclusive
    status: str | None = None
    rating_status: RatingStatus | None = None
    rating_reason: str | None = None
    invoice_id: int | None = None
    number: str | None = None  # the start of the source or destination, as written

    def on_rating(self, scope: ContractScope) -> bool:
        """Only rated or unrated calls can match: read ``cdr_ratings`` first."""
        return (
            scope.restricted
            or any(v is not None for v in (self.contract_id, self.rating_reason, self.invoice_id))
            or self.rating_status in (RatingStatus.RATED, RatingStatus.UNRATED)
            or self.status in RATING_STATES
        )
