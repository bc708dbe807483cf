"""The call figures of /metrics, counted by the database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from telecrm.cdrs.figures.service import CdrFigures, cdr_figures
from telecrm.cdrs.models import CdrReject
from telecrm.rating.types import RatingStatus
from tests import factories


def test_the_figures_count_every_call_once_in_each_breakdown(db_session: Session) -> None:
    assert cdr_figures(db_session) == CdrFigures()
    contract = factories.contract(db_session)
    rate = factories.rate(db_session)
    factories.cdr(db_session, contract, rate_obj=rate, cost="10", source="pbx-a", status="valid")
    factories.cdr(
        db_session, contract, cost="0", source="pbx-a", status="valid", sync_status="synced"
    )
    factories.cdr(
        db_session,
        None,
        source="pbx-b",
        status="valid",
        rating_status=RatingStatus.UNRATED,
        rating_reason="no_contract",
        sync_status="failed",
    )
    factories.cdr(db_session, contract, status="invalid")  # no source, never rated
    factories.cdr(db_session, contract, source="pbx-b")  # new, pending
    db_session.add_all(
        [
            CdrReject(source="pbx-a", line_number=3, reason="bad date", raw="x"),
            CdrReject(source="pbx-a", line_number=4, reason="bad date", raw="y"),
            CdrReject(source=None, line_number=1, reason="no number", raw="z"),
        ]
    )
    db_session.flush()

    assert cdr_figures(db_session) == CdrFigures(
        imported={"pbx-a": 2, "pbx-b": 2, "": 1},
        by_status={"valid": 3, "invalid": 1, "new": 1},
        rejected={"pbx-a": 2, "": 1},
        rated=2,
        unrated={"no_contract": 1},
        sync={"pending": 3, "synced": 1, "failed": 1},
    )
