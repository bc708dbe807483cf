"""What every command shares, in every domain's ``cli.py`` and the top's ``cli/``:
the consoles, tables, progress bars, and the body of the reference-data import
commands (rate groups, rates, contracts): read the file (UTF-8), import it in one
transaction, list every bad row when it fails."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy.orm import Session

from telecrm.csvimport import ImportSummary, decode
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed

# A log file, a pipe or a cron mail has no width to respect: whole rows there, not
# cells folded to 80 columns. A terminal gets its own width (and folds what is wider).
_NOT_A_TERMINAL_WIDTH = 240


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else _NOT_A_TERMINAL_WIDTH)


console = _console(stderr=False)
err_console = _console(stderr=True)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


def progress() -> Progress:
    """A progress bar for long work; silent when the output is not a terminal."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


Importer = Callable[[Session, TextIO, str], ImportSummary]


def import_csv(path: Path, importer: Importer, what: str) -> None:
    try:
        # Decoded whole before the import starts, so that a file that is not UTF-8 is
        # one error naming it (and its line), not a decoding error halfway through.
        text = decode(path.read_bytes(), path.name)
        with session_scope() as session:
            summary = importer(session, io.StringIO(text, newline=""), path.name)
    except ValidationFailed as exc:
        # The error's message names the first bad rows; a person fixing the file
        # wants all of them.
        for row in exc.detail or []:
            err_console.print(f"{path.name} line {row['line']}: {row['message']}", highlight=False)
        raise ValidationFailed(
            f"{path.name}: nothing imported ({len(exc.detail or [])} bad rows)"
            if exc.detail
            else exc.message
        ) from exc
    console.print(f"{path.name}: {summary.created} {what} created, {summary.updated} updated")
