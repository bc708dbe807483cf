"""The ``telecrm cdr`` group: import PBX files, list rejected rows, rate
(``process-billing``), export. Other domains add their CDR commands to ``cdr_app``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import typer

from telecrm.cdrs import service
from telecrm.cdrs.crm_sync.cli import sync, sync_log, sync_release
from telecrm.cdrs.formats import FileFormat
from telecrm.cdrs.lifecycle.cli import print_findings, statuses, validate
from telecrm.cdrs.sources.cli import fetch, sources_app
from telecrm.cli.console import console, err_console, print_table, progress
from telecrm.config import get_settings
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed

cdr_app = typer.Typer(
    help="Call detail records: import PBX files, rate them, export them.", no_args_is_help=True
)
# CDR management (telecrm.cdrs.sources, cdr_status, call_sync): sources and fetching,
# validation and status, the calls pushed to the CRM.
cdr_app.add_typer(sources_app, name="sources")
cdr_app.command("fetch")(fetch)
cdr_app.command("validate")(validate)
cdr_app.command("statuses")(statuses)
cdr_app.command("sync")(sync)
cdr_app.command("sync-release")(sync_release)
cdr_app.command("sync-log")(sync_log)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"{option} {text!r} is not a date (YYYY-MM-DD)") from exc


def _window(
    date: str | None, first: str | None, last: str | None
) -> tuple[dt.datetime, dt.datetime, str]:
    """``--date D`` or ``--from D --to D`` (both days included), in the billing time
    zone, as UTC instants and words for the summary."""
    day, start, end = _date(date, "--date"), _date(first, "--from"), _date(last, "--to")
    if day is not None and (start or end):
        raise ValidationFailed("give --date or --from/--to, not both")
    if day is not None:
        start = end = day
    if start is None or end is None:
        raise ValidationFailed("give --date, or both --from and --to")
    zone = get_settings().timezone
    begin, finish = service.day_window(start, end, zone)
    words = str(start) if start == end else f"{start} to {end}"
    return begin, finish, f"{words} ({zone})"


@cdr_app.command("import")
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


@cdr_app.command("rejected")
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


@cdr_app.command("process-billing")
def process_billing(
    date: str | None = typer.Option(None, help="The day to rate (YYYY-MM-DD)."),
    first: str | None = typer.Option(None, "--from", help="First day of a range."),
    last: str | None = typer.Option(None, "--to", help="Last day of a range (included)."),
    rerate: bool = typer.Option(
        False, help="Rate rated CDRs again too (not those on a sent or paid invoice)."
    ),
) -> None:
    """Rate the CDRs of a day or a range of days of the billing time zone, and say
    what became of every call of the window: rated, at zero, unrated and invalid."""
    start, end, words = _window(date, first, last)
    settings = get_settings()
    with progress() as bar, session_scope() as session:
        task = bar.add_task("rating", total=max((end - start).days, 1))
        summary = service.process_billing(
            session,
            start,
            end,
            rerate,
            settings,
            on_day=lambda day, count: bar.advance(task),
        )
    rows: list[tuple[str, object]] = [
        ("CDRs processed", summary.processed),
        ("ratings changed", summary.changed),
        ("rated", summary.rated),
        ("rated at zero cost", summary.zero_cost),
    ]
    rows += [(f"unrated: {reason}", n) for reason, n in sorted(summary.unrated.items())]
    rows += [("excluded as invalid", summary.invalid)]
    rows += [(f"invalid: {reason}", n) for reason, n in sorted(summary.invalid_findings.items())]
    if summary.unvalidated:
        rows += [("not validated yet (telecrm cdr validate)", summary.unvalidated)]
    rows += [
        (f"total cost {currency}", f"{total:f}")
        for currency, total in sorted(summary.cost_by_currency.items())
    ]
    print_table(f"process-billing {words}", ["", ""], rows)


@cdr_app.command("export")
def export(
    first: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last day (included)."),
    output_format: service.ExportFormat = typer.Option(service.ExportFormat.CSV, "--format"),
    output: Path | None = typer.Option(None, help="File to write (default: standard output)."),
) -> None:
    """Export the CDRs of a range of days with their rating: one row per CDR."""
    start, end, words = _window(None, first, last)
    with session_scope(write=False) as session:
        if output is None:
            count = service.export(session, start, end, output_format, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = service.export(session, start, end, output_format, handle)
    err_console.print(f"exported {count} CDRs of {words}" + (f" to {output}" if output else ""))
