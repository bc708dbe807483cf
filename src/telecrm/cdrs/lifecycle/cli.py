"""``telecrm cdr validate`` and ``telecrm cdr statuses`` (commands of the ``cdr`` group)."""

from __future__ import annotations

import typer

from telecrm.cdrs.lifecycle import service
from telecrm.cdrs.lifecycle.validation import REASON_TEXT, UNBILLABLE, Reason
from telecrm.console import console, print_table
from telecrm.db import session_scope


def validate(
    source: str | None = typer.Option(None, help="Only the CDRs of this source."),
    again: bool = typer.Option(False, "--again", help="Validate the invalid CDRs again too."),
) -> None:
    """Validate the new CDRs: valid ones go on to rating (with any finding that does
    not make them unbillable), invalid ones keep their findings."""
    with session_scope() as session:
        summary = service.validate_cdrs(session, source=source, again=again)
    console.print(
        f"valid: {summary.valid}, invalid: {summary.invalid}, with findings: {summary.flagged}"
    )
    print_findings(summary.reasons, "CDRs")


def print_findings(findings: dict[str, int], counted: str) -> None:
    """Each validation finding with how many ``counted`` (calls, CDRs) have it, and
    whether it keeps the call from the bill; nothing when there are none."""
    if not findings:
        return
    print_table(
        "what validation found (invalid calls are not billed)",
        ["finding", counted, "the call", "meaning"],
        [
            (
                reason,
                count,
                "invalid" if Reason(reason) in UNBILLABLE else "billed",
                REASON_TEXT[Reason(reason)],
            )
            for reason, count in sorted(findings.items())
        ],
    )


def statuses() -> None:
    """Seed 000's CDR_Status, with how many CDRs are in each."""
    with session_scope() as session:
        rows = service.statuses_with_counts(session)
    print_table(
        "CDR status",
        ["status", "description", "CDRs"],
        [(status.status_id, status.description, count) for status, count in rows],
    )
