"""Validating stored CDRs and keeping each CDR's status in step with billing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.audit.service import record
from telecrm.cdrs.lifecycle import repository, validation
from telecrm.cdrs.lifecycle.models import CdrState, CdrStatus

VALIDATION_CHUNK = 20_000


@dataclass
class ValidationSummary:
    valid: int = 0  # with or without findings: these are rated
    invalid: int = 0  # a finding makes them unbillable
    flagged: int = 0  # calls with at least one finding, valid or invalid
    # the first few flagged CDRs, with every finding: what a run report shows
    examples: list[dict[str, Any]] = field(default_factory=list)
    # how many calls have each finding (valid and invalid ones)
    reasons: dict[str, int] = field(default_factory=dict)


def validate_cdrs(
    session: Session,
    source: str | None = None,
    again: bool = False,
    max_examples: int = 5,
) -> ValidationSummary:
    """Validate every new CDR (of ``source`` when given); with ``again`` the invalid
    ones too, so that a corrected rule or record is taken into account. An invalid CDR
    is kept, with all its reasons, in status ``invalid``."""
    states = [CdrState.NEW, CdrState.INVALID] if again else [CdrState.NEW]
    summary = ValidationSummary()
    after_id = 0
    while True:
        frame = repository.cdrs_to_validate(session, states, after_id, VALIDATION_CHUNK, source)
        if frame.is_empty():
            break
        after_id = int(frame["id"].max())  # type: ignore[arg-type]
        result = validation.validate(frame)
        found = result.filter(result["reasons"].list.len() > 0)
        passed = result.filter(result["reasons"].list.len() == 0)["id"].to_list()
        summary.valid += repository.mark_valid(session, passed)
        blocked = validation.unbillable(pl.col("reasons"))
        unbillable, billed = found.filter(blocked), found.filter(~blocked)
        invalid_by_id = _by_id(unbillable)
        findings_by_id = _by_id(billed)
        repository.mark_invalid(session, invalid_by_id)
        repository.mark_valid_with_findings(session, findings_by_id)
        summary.invalid += len(invalid_by_id)
        summary.valid += len(findings_by_id)
        summary.flagged += found.height
        for reasons in found.get_column("reasons").to_list():
            for reason in reasons:
                summary.reasons[reason] = summary.reasons.get(reason, 0) + 1
        _add_examples(session, summary, invalid_by_id | findings_by_id, invalid_by_id, max_examples)
    if summary.valid or summary.invalid:
        cache.invalidate_on_commit(session, cache.CDRS)
        record(
            session,
            "validate",
            "cdrs",
            None,
            {
                "source": source,
                "valid": summary.valid,
                "invalid": summary.invalid,
                "with_findings": summary.flagged,
            },
        )
    return summary


def _by_id(found: pl.DataFrame) -> dict[int, list[str]]:
    return dict(zip(found["id"].to_list(), found["reasons"].to_list(), strict=True))


def _add_examples(
    session: Session,
    summary: ValidationSummary,
    reasons_by_id: dict[int, list[str]],
    invalid_by_id: dict[int, list[str]],
    max_examples: int,
) -> None:
    wanted = sorted(reasons_by_id)[: max(0, max_examples - len(summary.examples))]
    if not wanted:
        return
    call_ids = repository.cdr_call_ids(session, wanted)
    summary.examples += [
        {
            "cdr_id": cdr_id,
            "call_id": call_ids.get(cdr_id),
            "status": CdrState.INVALID.value if cdr_id in invalid_by_id else CdrState.VALID.value,
            "reasons": ", ".join(reasons_by_id[cdr_id]),
        }
        for cdr_id in sorted(wanted)
    ]


def last_cdr_id(session: Session) -> int:
    return repository.max_cdr_id(session)


def findings_report(
    session: Session, source: str, after_id: int, up_to_id: int, max_examples: int = 5
) -> ValidationSummary:
    """What a run report says of the CDRs a source stored with ids in
    ``(after_id, up_to_id]``: the import validated each as it stored it. The examples
    are invalid calls (what a person must fix); the counts cover every finding."""
    counts, rows = repository.findings_between(session, source, after_id, up_to_id, max_examples)
    return ValidationSummary(
        invalid=counts.invalid,
        flagged=counts.flagged,
        reasons=counts.reasons,
        examples=[
            {"cdr_id": cdr_id, "call_id": call_id, "reasons": ", ".join(errors)}
            for cdr_id, call_id, errors in rows
        ],
    )


def statuses_with_counts(session: Session) -> list[tuple[CdrStatus, int]]:
    counts = repository.count_by_status(session)
    return [(status, counts.get(status.status_id, 0)) for status in repository.statuses(session)]
