"""``telecrm db partitions`` and ``telecrm db retention`` (commands of the ``db``
group)."""

from __future__ import annotations

import typer

from telecrm.cdrs.partitions import service
from telecrm.console import console, err_console, print_table
from telecrm.db import session_scope


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def partitions(
    ensure: int | None = typer.Option(
        None,
        "--ensure",
        min=0,
        help="First make the partitions of this billing month and N months ahead, where missing.",
    ),
    first: str | None = typer.Option(
        None,
        "--from",
        help="With --ensure: start at this month (YYYY-MM) instead of this one, to load "
        "older calls into their own partitions.",
    ),
) -> None:
    """List the monthly partitions of cdrs and cdr_ratings with their rows and size
    (PostgreSQL only)."""
    start = service.parse_month(first) if first is not None else None
    with session_scope(write=ensure is not None) as session:
        if ensure is not None:
            made = service.ensure_partitions(session, ensure, today=start)
            if not made.supported:
                err_console.print(service.POSTGRES_ONLY)
                raise typer.Exit(1)
            console.print(
                f"created {len(made.created)} partitions"
                + (f" ({', '.join(made.created)})" if made.created else "")
                + f", {made.moved_rows} rows moved from the default partitions"
            )
        found = service.list_partitions(session)
    if found is None:
        err_console.print(service.POSTGRES_ONLY)
        raise typer.Exit(1)
    print_table(
        "Partitions",
        ["table", "partition", "from (UTC)", "to (UTC)", "rows", "size"],
        (
            (
                p.table,
                p.name,
                p.start.isoformat() if p.start else "default",
                p.end.isoformat() if p.end else "",
                f"{p.rows:,}",
                human_size(p.bytes),
            )
            for p in found
        ),
    )
    total = sum(p.bytes for p in found)
    console.print(
        f"{len(found)} partitions, {sum(p.rows for p in found):,} rows, {human_size(total)}"
    )


def retention(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say which months would be archived and dropped; change nothing."
    ),
) -> None:
    """Archive each month of calls past TELECRM_CDR_RETENTION_MONTHS to Parquet
    (TELECRM_CDR_ARCHIVE_DIR), then drop its partitions (PostgreSQL only). A month an
    unpaid invoice holds calls of is kept."""
    with session_scope(write=not dry_run) as session:
        result = service.apply_retention(session, dry_run=dry_run)
    if not result.supported:
        err_console.print(service.POSTGRES_ONLY)
        raise typer.Exit(1)
    if not result.enabled:
        console.print("TELECRM_CDR_RETENTION_MONTHS is not set: every month is kept")
        return
    assert result.cutoff is not None
    if result.months:
        print_table(
            "Months past retention" + (" (dry run)" if dry_run else ""),
            ["month", "calls", "ratings", "outcome", "files"],
            (
                (
                    m.month,
                    f"{m.rows.get('cdrs', 0):,}",
                    f"{m.rows.get('cdr_ratings', 0):,}",
                    m.outcome + (f": {m.reason}" if m.reason else ""),
                    ", ".join(str(path) for path in m.files),
                )
                for m in result.months
            ),
        )
    done = [m for m in result.months if m.outcome == "archived"]
    refused = [m for m in result.months if m.outcome == "refused"]
    console.print(
        f"{len(result.months)} months before {result.cutoff.isoformat()}: "
        + ("would archive " if dry_run else "archived and dropped ")
        + f"{len(result.months) - len(refused) if dry_run else len(done)}, "
        f"{sum(sum(m.rows.values()) for m in done):,} rows; refused {len(refused)}"
    )
    if refused:
        raise typer.Exit(1)
