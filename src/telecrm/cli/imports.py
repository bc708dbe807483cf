"""What the reference-data import commands share (rate groups, rates, contracts):
read the file (UTF-8), import it in one transaction, list every bad row when it fails."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from telecrm.cli.console import console, err_console
from telecrm.csvimport import ImportSummary, decode
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed

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
