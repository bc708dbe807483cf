"""Three GROUP BY statements over the narrow columns: what a scrape of /metrics
costs the database (bench/README.md has the time on a million calls)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrRating, CdrReject
from telecrm.rating.types import RatingStatus


def calls_by_source_status_sync(
    session: Session,
) -> Sequence[Row[str | None, str, str, int]]:
    """(source, status, sync_status, calls) for every combination stored."""
    return session.execute(
        select(Cdr.source, Cdr.status, Cdr.sync_status, func.count()).group_by(
            Cdr.source, Cdr.status, Cdr.sync_status
        )
    ).all()


def rejects_by_source(session: Session) -> Sequence[Row[str | None, int]]:
    """(source, rejected rows)."""
    return session.execute(select(CdrReject.source, func.count()).group_by(CdrReject.source)).all()


def ratings_by_status_reason(
    session: Session,
) -> Sequence[Row[RatingStatus, str | None, int]]:
    """(rating status, unrated reason, calls)."""
    return session.execute(
        select(CdrRating.rating_status, CdrRating.rating_reason, func.count()).group_by(
            CdrRating.rating_status, CdrRating.rating_reason
        )
    ).all()
