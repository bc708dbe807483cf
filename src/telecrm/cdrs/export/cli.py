"""``telecrm cdr export`` (a command of the ``cdr`` group)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from telecrm.cdrs.export import service
from telecrm.cdrs.window import command_window
from telecrm.console import err_console
from telecrm.db import session_scope


def export(
    first: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last day (included)."),
    output_format: service.ExportFormat = typer.Option(service.ExportFormat.CSV, "--format"),
    output: Path | None = typer.Option(None, help="File to write (default: standard output)."),
) -> None:
    """Export the CDRs of a range of days with their rating: one row per CDR."""
    start, end, words = command_window(None, first, last)
    with session_scope(write=False) as session:
        if output is None:
            count = service.export(session, start, end, output_format, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = service.export(session, start, end, output_format, handle)
    err_console.print(f"exported {count} CDRs of {words}" + (f" to {output}" if output else ""))
