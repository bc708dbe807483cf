"""The vocabulary of rating, shared by the engine, the models and the API."""

from __future__ import annotations

import enum


class RateType(enum.StrEnum):
    PER_MINUTE = "per_minute"
    PER_SECOND = "per_second"
    FLAT_RATE = "flat_rate"


class RatingStatus(enum.StrEnum):
    PENDING = "pending"  # imported, not rated yet
    RATED = "rated"  # has a cost (possibly 0: an unanswered call)
    UNRATED = "unrated"  # could not be rated; the reason says why


class UnratedReason(enum.StrEnum):
    INVALID_NUMBER = "invalid_number"
    INTERNAL = "internal"
    NO_CONTRACT = "no_contract"
    NO_RATE = "no_rate"


# RATING.md §2: a contract's account code matches a CDR's after trimming these, on
# both sides (the engine, the reference, the call sync and the reconciliation alike).
ACCOUNTCODE_BLANKS = " \t\r\n"
