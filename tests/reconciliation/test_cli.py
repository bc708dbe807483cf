"""``telecrm billing reconcile``: the table, JSON and CSV, and a non-zero exit with
where the month does not tie out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.config import get_settings
from telecrm.invoices import service as invoices_service
from telecrm.reconciliation.cli import CSV_COLUMNS
from tests import factories
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
NOV = dt.datetime(2025, 11, 10, 9, tzinfo=dt.UTC)


def test_reconcile_prints_every_bucket_and_exits_non_zero_when_it_does_not_tie_out(
    cli: Cli, committed_db: Engine
) -> None:
    with Session(committed_db) as session, session.begin():
        rate = factories.rate(session)
        contract = factories.contract(session, accountcode="ACME01")
        factories.cdr(session, contract, NOV, rate, cost="2400", status="valid")
        factories.cdr(
            session, contract, NOV, status="invalid", validation_errors=["missing_disposition"]
        )
        factories.cdr(session, None, NOV, accountcode="WHO", status="valid")
        invoices_service.generate(session, 2025, 11, get_settings())

    table = cli("billing", "reconcile", "--month", "11", "--year", "2025")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "ACME01 │ on_draft │ │ 1 │ 2400.000000 │ IDR" in text
    assert "ACME01 │ invalid │ │ 1 │ │ IDR" in text
    assert "WHO │ pending │ │ 1 │" in text
    assert "ACME01 │ missing_disposition │ 1" in text
    assert "3 calls, 3 in the buckets; everything ties out" in text

    as_json = cli("billing", "reconcile", "--month", "11", "--year", "2025", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert (body["ties_out"], body["calls"]) == (True, 3)
    [acme] = body["contracts"]
    assert (acme["rated_money"], acme["invoiced_exact"]) == ("2400.000000", "2400.000000")

    as_csv = cli("billing", "reconcile", "--month", "11", "--year", "2025", "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    on_draft = ("contract", "ACME01", "IDR", "on_draft", "", "1", "2400.000000")
    assert dict(zip(CSV_COLUMNS, on_draft, strict=True)) in rows
    assert any(r["section"] == "no_contract" and r["accountcode"] == "WHO" for r in rows)

    with Session(committed_db) as session, session.begin():
        contract = session.merge(contract)
        factories.cdr(session, contract, NOV, cost="1", status="valid")
    stale = cli("billing", "reconcile", "--month", "11", "--year", "2025")
    assert stale.exit_code == 1
    assert "does not tie out" in stale.stdout
    assert "generate the month's invoices again" in " ".join(stale.stderr.split())
