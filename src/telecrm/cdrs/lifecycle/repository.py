"""Every query of the CDR lifecycle: reading CDRs to validate, moving statuses in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import String, case, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle.models import CdrState, CdrStatus
from telecrm.cdrs.lifecycle.transitions import sources_of
from telecrm.cdrs.lifecycle.validation import COLUMNS, Reason
from telecrm.cdrs.models import Cdr, CdrRating, lifecycle_status_expression, rating_of_call

# Bound parameters per statement stay well under SQLite's limit (32766).
_IDS_PER_STATEMENT = 5000

_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "src": pl.String(),
    "dst": pl.String(),
    "start_time": pl.Datetime("us", "UTC"),
    "end_time": pl.Datetime("us", "UTC"),
    "duration": pl.Int64(),
    "billsec": pl.Int64(),
    "disposition": pl.String(),
}


def statuses(session: Session) -> Sequence[CdrStatus]:
    return session.scalars(select(CdrStatus).order_by(CdrStatus.status_id)).all()


def count_by_status(session: Session) -> dict[str, int]:
    """How many CDRs are in each lifecycle status (``Cdr.lifecycle_status``)."""
    status = lifecycle_status_expression()
    rows = session.execute(
        select(status, func.count())
        .select_from(Cdr)
        .outerjoin(CdrRating, rating_of_call())
        .group_by(status)
    ).all()
    return {status: count for status, count in rows}


def cdrs_to_validate(
    session: Session,
    states: Sequence[CdrState],
    after_id: int,
    limit: int,
    source: str | None = None,
) -> pl.DataFrame:
    """The next ``limit`` CDRs in ``states`` with an id above ``after_id``, as a frame."""
    query = (
        select(*(getattr(Cdr, column) for column in COLUMNS))
        .where(Cdr.status.in_([state.value for state in states]), Cdr.id > after_id)
        .order_by(Cdr.id)
        .limit(limit)
    )
    if source is not None:
        query = query.where(Cdr.source == source)
    rows = session.execute(query).all()
    return pl.DataFrame(rows, schema=_FRAME_SCHEMA, orient="row")


def mark_valid(session: Session, ids: Sequence[int]) -> int:
    """Valid, with nothing found."""
    moved = 0
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        result = session.execute(
            update(Cdr)
            .where(Cdr.id.in_(chunk), Cdr.status.in_(sources_of(CdrState.VALID)))
            .values(status=CdrState.VALID.value, validation_errors=None)
            .execution_options(synchronize_session=False)
        )
        moved += result.rowcount or 0  # type: ignore[attr-defined]
    return moved


def _mark(session: Session, target: CdrState, reasons_by_id: dict[int, list[str]]) -> None:
    # Executed once per row: an IN list would be an "expanding" parameter, which
    # executemany cannot take.
    allowed = or_(*(Cdr.status == status for status in sources_of(target)))
    session.execute(
        update(Cdr).where(allowed),
        [
            {"id": cdr_id, "status": target.value, "validation_errors": reasons}
            for cdr_id, reasons in reasons_by_id.items()
        ],
        execution_options={"synchronize_session": False},
    )


def mark_valid_with_findings(session: Session, reasons_by_id: dict[int, list[str]]) -> None:
    """Valid (billed), keeping what was found: findings that do not make a call
    unbillable."""
    if reasons_by_id:
        _mark(session, CdrState.VALID, reasons_by_id)


def mark_invalid(session: Session, reasons_by_id: dict[int, list[str]]) -> None:
    if not reasons_by_id:
        return
    _mark(session, CdrState.INVALID, reasons_by_id)
    # A call found invalid is not billed: a rating it got before it was validated
    # goes (unless a sent invoice holds it already).
    ids = list(reasons_by_id)
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        session.execute(
            delete(CdrRating).where(
                CdrRating.invoice_id.is_(None),
                CdrRating.cdr_id.in_(
                    select(Cdr.id).where(Cdr.id.in_(chunk), Cdr.status == CdrState.INVALID.value)
                ),
            )
        )


def cdr_call_ids(session: Session, ids: Sequence[int]) -> dict[int, str | None]:
    rows = session.execute(select(Cdr.id, Cdr.call_id).where(Cdr.id.in_(ids))).all()
    return {cdr_id: call_id for cdr_id, call_id in rows}


@dataclass(frozen=True)
class FindingCounts:
    flagged: int  # calls with at least one finding
    invalid: int  # of which a finding makes them unbillable
    reasons: dict[str, int]  # how many calls have each finding


def findings_counts(session: Session, *conditions: Any) -> FindingCounts:
    """What validation found in the calls that meet ``conditions``, counted in one
    statement however many there are: each finding is a quoted token of the stored
    JSON text, on both databases."""
    text = cast(Cdr.validation_errors, String)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Cdr.status == CdrState.INVALID.value, 1))), 0),
            *(
                func.coalesce(func.sum(case((text.like(f'%"{reason.value}"%'), 1))), 0)
                for reason in Reason
            ),
        ).where(*conditions, Cdr.validation_errors.is_not(None), text != "null")
    ).one()
    reasons = {reason.value: int(n) for reason, n in zip(Reason, row[2:], strict=True) if n}
    return FindingCounts(int(row[0]), int(row[1]), reasons)


def max_cdr_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Cdr.id), 0))) or 0)


def findings_between(
    session: Session, source: str, after_id: int, up_to_id: int, limit: int
) -> tuple[FindingCounts, list[tuple[int, str | None, list[str]]]]:
    """What validation found in the source's CDRs with an id in ``(after_id,
    up_to_id]``: the counts, and the first ``limit`` invalid ones (id, call id,
    findings)."""
    stored = (Cdr.source == source, Cdr.id > after_id, Cdr.id <= up_to_id)
    counts = findings_counts(session, *stored)
    examples = [
        (cdr_id, call_id, list(errors or []))
        for cdr_id, call_id, errors in session.execute(
            select(Cdr.id, Cdr.call_id, Cdr.validation_errors)
            .where(*stored, Cdr.status == CdrState.INVALID.value)
            .order_by(Cdr.id)
            .limit(limit)
        )
    ]
    return counts, examples
