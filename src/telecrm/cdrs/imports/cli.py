"""``telecrm cdr import`` and ``telecrm cdr rejected`` (commands of the ``cdr`` group)."""

from __future__ import annotations

from pathlib import Path

import typer

from telecrm.cdrs.formats import FileFormat
from telecrm.cdrs.imports import service
from telecrm.cdrs.lifecycle.cli import print_findings
from telecrm.config import get_settings
from telecrm.console import console, print_table, progress
from telecrm.db import session_scope


def import_files(
    files: list[Path] = typer.Argument(..., help="CDR files, imported one after the other."),
    file_format: FileFormat = typer.Option(..., "--format", help="How the files were written."),
    timezone: str | None = typer.Option(
        None, help="The time zone of the files' times (default: the billing time zone)."
    ),
    source: str | None = typer.Option(None, help="Name of the PBX the files come from."),
) -> None:
    """Import CDR files: each call stored once, bad rows kept as rejects. Safe to run
    again on the same or overlapping files; an interrupted import continues."""
    settings = get_settings()
    zone = timezone or settings.timezone
    summary = []
    findings: dict[str, int] = {}
    with progress() as bar:
        for path in files:
            task = bar.add_task(path.name, total=path.stat().st_size if path.is_file() else None)
            with session_scope() as session:
                record = None
                after_id = service.last_cdr_id(session)
                try:
                    for record in service.import_file(
                        session, path, file_format, zone, source, settings.cdr_import_batch_size
                    ):
                        # The job wrapper's commit: each batch is kept, whatever follows.
                        session.commit()
                        bar.update(task, completed=record.bytes_read)
                except KeyboardInterrupt:
                    if record is not None:
                        # the batch in hand goes, and with it SQLite's write lock,
                        # which the other session needs to record the interruption
                        import_id = record.id
                        session.rollback()
                        with session_scope() as other:
                            service.mark_interrupted(other, import_id)
                    raise
                found = None
                if record is not None:
                    found = service.import_findings(session, record.id, after_id)
            if record is not None and found is not None:
                summary.append(
                    (
                        path.name,
                        record.lines_read,
                        record.imported,
                        record.duplicates,
                        record.rejected,
                        found.flagged,
                        found.invalid,
                    )
                )
                for reason, count in found.reasons.items():
                    findings[reason] = findings.get(reason, 0) + count
    print_table(
        "CDR import",
        [
            "file",
            "lines",
            "imported",
            "duplicates skipped",
            "rejected",
            "with findings",
            "of which invalid",
        ],
        summary,
    )
    print_findings(findings, "calls")
    rejected = sum(row[4] for row in summary)
    if rejected:
        console.print(f"{rejected} rejected rows: see 'telecrm cdr rejected'")


def rejected(
    import_id: int | None = typer.Option(None, "--import", help="Only this import's rejects."),
    source: str | None = typer.Option(None, help="Only this source's rejects."),
    limit: int = typer.Option(100, min=1, help="At most this many, newest first."),
) -> None:
    """List rows that could not be imported: file, line, reason and the row itself."""
    with session_scope(write=False) as session:
        rows = service.list_rejects(session, import_id, source, limit)
        print_table(
            f"{len(rows)} rejected rows",
            ["id", "import", "file", "line", "reason", "row"],
            [(r.id, r.import_id, r.file_name, r.line_number, r.reason, r.raw[:120]) for r in rows],
        )
