"""The call figures of the whole database, counted now: right whichever process or
machine asks, since the database is the one place every import, rating and sync
writes to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from telecrm.cdrs.figures import repository
from telecrm.rating.types import RatingStatus


@dataclass
class CdrFigures:
    imported: dict[str, int] = field(default_factory=dict)  # calls stored, per source
    by_status: dict[str, int] = field(default_factory=dict)  # new, valid, invalid
    rejected: dict[str, int] = field(default_factory=dict)  # rows rejected, per source
    rated: int = 0
    unrated: dict[str, int] = field(default_factory=dict)  # per reason
    sync: dict[str, int] = field(default_factory=dict)  # pending, synced, failed


def cdr_figures(session: Session) -> CdrFigures:
    """Calls stored (per source and status), rows rejected (per source), calls rated
    and unrated (per reason), and where the calls stand with the CRM (per state). A
    call of no source counts under ""."""
    imported: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    sync: dict[str, int] = defaultdict(int)
    for source, status, sync_status, calls in repository.calls_by_source_status_sync(session):
        imported[source or ""] += calls
        by_status[status] += calls
        sync[sync_status] += calls
    figures = CdrFigures(
        imported=dict(imported),
        by_status=dict(by_status),
        rejected={source or "": rows for source, rows in repository.rejects_by_source(session)},
        sync=dict(sync),
    )
    for status, reason, calls in repository.ratings_by_status_reason(session):
        if status == RatingStatus.RATED:
            figures.rated += calls
        else:
            figures.unrated[reason or ""] = figures.unrated.get(reason or "", 0) + calls
    return figures
