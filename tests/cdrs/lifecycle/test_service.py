from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.audit.models import AuditEntry
from telecrm.audit.service import set_actor
from telecrm.cdrs.lifecycle import service
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.lifecycle.transitions import TRANSITIONS, sources_of
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.rating.types import RatingStatus
from tests import factories


def test_the_migration_fills_cdr_status_with_every_state(db_session: Session) -> None:
    rows = {status.status_id: count for status, count in service.statuses_with_counts(db_session)}
    assert set(rows) == {state.value for state in CdrState}
    for status, _ in service.statuses_with_counts(db_session):
        assert status.description


def test_validation_keeps_invalid_cdrs_with_their_reasons(db_session: Session) -> None:
    good = factories.cdr(db_session, source="pbx-a")
    too_long = factories.cdr(db_session, source="pbx-a", billsec=90, duration=60)
    two_faults = factories.cdr(
        db_session, source="pbx-a", dst="s", disposition="TRANSFERRED", billsec=0
    )
    other_source = factories.cdr(db_session, source="pbx-b", billsec=90, duration=60)

    summary = service.validate_cdrs(db_session, source="pbx-a", max_examples=1)

    assert (summary.valid, summary.invalid) == (1, 2)
    assert summary.reasons == {
        "billsec_exceeds_duration": 1,
        "unknown_disposition": 1,
        "dst_not_a_number": 1,
    }
    assert summary.examples == [
        {
            "cdr_id": too_long.id,
            "call_id": too_long.call_id,
            "status": "invalid",
            "reasons": "billsec_exceeds_duration",
        }
    ]
    for cdr in (good, too_long, two_faults, other_source):
        db_session.refresh(cdr)
    assert good.status == "valid" and good.validation_errors is None
    assert too_long.status == "invalid"
    assert too_long.validation_errors == ["billsec_exceeds_duration"]
    assert two_faults.validation_errors == ["unknown_disposition", "dst_not_a_number"]
    assert other_source.status == "new"
    assert db_session.scalar(select(Cdr).where(Cdr.id == too_long.id)) is not None


def test_only_a_finding_about_a_billed_field_makes_a_call_invalid(db_session: Session) -> None:
    """RATING.md: the caller never excludes a call; a called number that is not a
    number is rating's to judge (invalid_number). Both are reported, the call stays
    valid, with its findings; a missing or contradictory billed field makes it invalid."""
    billed = {
        "withheld": factories.cdr(db_session, src=""),
        "anonymous": factories.cdr(db_session, src="anonymous"),
        "named": factories.cdr(db_session, src="alice"),
        "no dst": factories.cdr(db_session, dst=""),
        "dst word": factories.cdr(db_session, dst="s"),
    }
    ends_early = factories.cdr(db_session)
    ends_early.end_time = ends_early.start_time - dt.timedelta(seconds=5)
    billed["ends early"] = ends_early
    unbillable = {
        "no disposition": factories.cdr(db_session, disposition=""),
        "odd disposition": factories.cdr(db_session, disposition="TRANSFERRED"),
        "billsec too long": factories.cdr(db_session, billsec=90, duration=60),
    }
    db_session.flush()

    summary = service.validate_cdrs(db_session)

    for cdr in (*billed.values(), *unbillable.values()):
        db_session.refresh(cdr)
    assert {name: (c.status, c.validation_errors) for name, c in billed.items()} == {
        "withheld": ("valid", ["missing_src"]),
        "anonymous": ("valid", ["src_not_a_number"]),
        "named": ("valid", ["src_not_a_number"]),
        "no dst": ("valid", ["missing_dst"]),
        "dst word": ("valid", ["dst_not_a_number"]),
        "ends early": ("valid", ["end_before_start"]),
    }
    assert {name: (c.status, c.validation_errors) for name, c in unbillable.items()} == {
        "no disposition": ("invalid", ["missing_disposition"]),
        "odd disposition": ("invalid", ["unknown_disposition"]),
        "billsec too long": ("invalid", ["billsec_exceeds_duration"]),
    }
    assert (summary.valid, summary.invalid, summary.flagged) == (6, 3, 9)


def test_validating_again_takes_a_corrected_record(db_session: Session) -> None:
    cdr = factories.cdr(db_session, billsec=90, duration=60)
    service.validate_cdrs(db_session)
    assert service.validate_cdrs(db_session).invalid == 0  # nothing new: not re-validated
    cdr.duration = 95
    db_session.flush()
    summary = service.validate_cdrs(db_session, again=True)
    db_session.refresh(cdr)
    assert (summary.valid, cdr.status, cdr.validation_errors) == (1, "valid", None)


def test_a_validation_through_the_api_is_in_the_audit_log(db_session: Session) -> None:
    factories.cdr(db_session)
    set_actor(db_session, "user:1:billing@example.com")
    service.validate_cdrs(db_session)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "validate")).one()
    assert entry.changes == {"source": None, "valid": 1, "invalid": 0, "with_findings": 0}


def test_status_follows_rating_and_invoicing(db_session: Session) -> None:
    """A valid call's status is read from its rating: rated or unrated, invoiced once a
    sent invoice holds it, rated again if it is released; validation's outcome
    (new, invalid) stays whatever rating did. Counted the same way in SQL."""
    contract = factories.contract(db_session)
    rated = factories.cdr(db_session, contract)
    unrated = factories.cdr(db_session, contract)
    invalid = factories.cdr(db_session, contract, billsec=90, duration=60)
    service.validate_cdrs(db_session)
    not_validated = factories.cdr(db_session, contract)
    pending = factories.cdr(db_session, contract, status=CdrState.VALID.value)
    for cdr, outcome in (
        (rated, RatingStatus.RATED),
        (unrated, RatingStatus.UNRATED),
        (not_validated, RatingStatus.RATED),
    ):
        db_session.add(
            CdrRating(
                cdr_id=cdr.id,
                start_time=cdr.start_time,
                rating_status=outcome,
                cost=Decimal(0) if outcome is RatingStatus.RATED else None,
                rated_at=cdr.start_time,
            )
        )
    db_session.flush()
    for cdr in (rated, unrated, invalid, not_validated, pending):
        db_session.refresh(cdr)
    assert [c.lifecycle_status for c in (rated, unrated, invalid, not_validated, pending)] == [
        "rated",
        "unrated",
        "invalid",
        "new",
        "valid",
    ]
    counts = dict((status.status_id, n) for status, n in service.statuses_with_counts(db_session))
    assert counts == {
        "new": 1,
        "valid": 1,
        "invalid": 1,
        "rated": 1,
        "unrated": 1,
        "invoiced": 0,
    }

    invoice = factories.invoice(db_session, contract)
    factories.rate_cdr(db_session, rated, invoice_id=invoice.id)
    assert rated.lifecycle_status == "invoiced"
    counts = dict((status.status_id, n) for status, n in service.statuses_with_counts(db_session))
    assert (counts["rated"], counts["invoiced"]) == (0, 1)

    factories.rate_cdr(db_session, rated, invoice_id=None)  # released
    assert rated.lifecycle_status == "rated"


def test_transition_table_allows_no_way_out_of_invalid_but_validation() -> None:
    assert TRANSITIONS[CdrState.INVALID] == {CdrState.VALID}
    assert sources_of(CdrState.INVALID) == ["new"]
    assert sources_of(CdrState.RATED) == ["invoiced", "unrated", "valid"]
    assert all(CdrState.NEW not in targets for targets in TRANSITIONS.values())


def test_a_run_report_counts_the_source_s_findings_and_each_reason(
    db_session: Session,
) -> None:
    def stored(source: str, reasons: list[str], status: CdrState = CdrState.INVALID) -> Cdr:
        return factories.cdr(
            db_session, source=source, status=status.value, validation_errors=reasons
        )

    before = service.last_cdr_id(db_session)
    first = stored("pbx-a", ["missing_src", "billsec_exceeds_duration"])
    stored("pbx-a", ["billsec_exceeds_duration"])
    stored("pbx-a", ["src_not_a_number"], CdrState.VALID)  # billed, and reported
    stored("pbx-b", ["missing_src"])  # another source
    factories.cdr(db_session, source="pbx-a", status=CdrState.VALID.value)
    up_to = service.last_cdr_id(db_session)
    stored("pbx-a", ["missing_dst"])  # after the run: the next report's

    report = service.findings_report(db_session, "pbx-a", before, up_to, max_examples=1)

    assert (report.invalid, report.flagged) == (2, 3)
    assert report.reasons == {
        "missing_src": 1,  # not counted inside "src_not_a_number"
        "billsec_exceeds_duration": 2,
        "src_not_a_number": 1,
    }
    assert report.examples == [
        {
            "cdr_id": first.id,
            "call_id": first.call_id,
            "reasons": "missing_src, billsec_exceeds_duration",
        }
    ]
