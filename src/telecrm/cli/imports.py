"""What the reference-data import commands share (rate groups, rates, contracts):
open the file, import it in one transaction, list every bad row when it fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from telecrm.cli.console import console, err_console
from telecrm.csvimport import ImportSummary
from telecrm.db import session_scope
from telecrm.errors import ValidationFailed

Importer = Callable[[Session, TextIO, str], ImportSummary]


def import_csv(path: Path, importer: Importer, what: str) -> None:
    try:
        with session_scope() as session, path.open(encoding="utf-8-sig", newline="") as stream:
            summary = importer(session, stream, path.name)
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
