"""``telecrm billing reconcile``: the table, JSON and CSV, and a non-zero exit with
where the month does not tie out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.config import get_settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING
from telecrm.invoices import service as invoices_service
from telecrm.invoices.models import Invoice, InvoiceStatus
from telecrm.invoices.service import Transition
from telecrm.rates.models import Rate
from telecrm.reconciliation.cli import CSV_COLUMNS
from tests import factories
from tests.conftest import TEST_REDIS_URL, CliResult

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


def _reconciled(cli: Cli, month: int) -> dict[str, Any]:
    """The month's JSON, which must tie out (exit 0); its one contract."""
    result = cli(
        "billing", "reconcile", "--month", str(month), "--year", "2025", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["ties_out"], body["problems"]) == (True, [])
    [account] = body["contracts"]
    return account


def _buckets(account: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {b["bucket"]: (b["calls"], b["money"]) for b in account["buckets"]}


def _send_drafts(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        drafts = session.scalars(select(Invoice.id).where(Invoice.status == InvoiceStatus.DRAFT))
        for invoice_id in drafts.all():
            invoices_service.transition(session, EVERYTHING, invoice_id, Transition.SEND)


@pytest.mark.parametrize("late_calls", ["next_invoice", "adjustment"])
def test_a_late_call_ties_out_in_its_month_at_every_step(
    cli: Cli, committed_db: Engine, monkeypatch: pytest.MonkeyPatch, late_calls: str
) -> None:
    monkeypatch.setenv("TELECRM_LATE_CALLS", late_calls)
    get_settings.cache_clear()
    dec = dt.datetime(2025, 12, 10, 9, tzinfo=dt.UTC)
    with Session(committed_db) as session, session.begin():
        rate = factories.rate(session)
        contract = factories.contract(session, accountcode="ACME01")
        factories.cdr(session, contract, NOV, rate, cost="100", status="valid")
        factories.cdr(session, contract, dec, rate, cost="7", status="valid")
        contract_id, rate_id = contract.id, rate.id
    assert cli("invoices", "generate", "--month", "11", "--year", "2025").exit_code == 0
    _send_drafts(committed_db)
    with Session(committed_db) as session, session.begin():
        contract = session.get_one(Contract, contract_id)
        factories.cdr(
            session, contract, NOV, session.get_one(Rate, rate_id), cost="2.5", status="valid"
        )

    assert _buckets(_reconciled(cli, 11)) == {
        "on_invoice": (1, "100.000000"),
        "late": (1, "2.500000"),
    }
    assert _buckets(_reconciled(cli, 12)) == {"not_invoiced": (1, "7.000000")}

    assert cli("invoices", "generate", "--month", "12", "--year", "2025").exit_code == 0
    november = _reconciled(cli, 11)
    assert _buckets(november) == {
        "on_invoice": (1, "100.000000"),
        "on_later_draft": (1, "2.500000"),
    }
    assert (november["invoiced_exact"], november["uninvoiced_money"]) == ("102.500000", "0")
    kind_exact = {"next_invoice": "9.500000", "adjustment": "2.500000"}
    kind = "monthly" if late_calls == "next_invoice" else "adjustment"
    month = "2025-12" if late_calls == "next_invoice" else "2025-11"
    assert [(i["kind"], i["month"], i["month_exact"]) for i in november["invoices"]] == [
        ("monthly", "2025-11", "100.000000"),
        (kind, month, "2.500000"),
    ]
    december = _reconciled(cli, 12)
    assert _buckets(december) == {"on_draft": (1, "7.000000")}
    assert december["invoiced_exact"] == "7.000000"

    _send_drafts(committed_db)
    assert _buckets(_reconciled(cli, 11)) == {
        "on_invoice": (1, "100.000000"),
        "on_later_invoice": (1, "2.500000"),
    }
    assert _buckets(_reconciled(cli, 12)) == {"on_invoice": (1, "7.000000")}
    table = cli("billing", "reconcile", "--month", "11", "--year", "2025")
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "ACME01 │ on_later_invoice │ │ 1 │ 2.500000 │ IDR" in text
    assert "2 calls, 2 in the buckets; everything ties out" in text
    as_csv = cli("billing", "reconcile", "--month", "11", "--year", "2025", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    number = "INV-2025-000002" if late_calls == "next_invoice" else "INV-2025-000003"
    assert [
        (r["section"], r["bucket"], r["calls"], r["money"]) for r in rows if r["detail"] == number
    ] == [
        ("invoice", "sent", "2" if late_calls == "next_invoice" else "1", kind_exact[late_calls]),
        ("invoice_of_month", "sent", "", "2.500000"),
    ]


def _asterisk_csv(path: Path, *starts: str) -> Path:
    """Answered calls of ACME01 to an Indonesian mobile, a minute each."""
    path.write_text(
        "".join(
            f'"ACME01","1001","08123456789","from-internal","","SIP/1001-{i}","SIP/t-{i}",'
            f'"Dial","SIP/t/08123456789","{start}","{start}","{start}",63,60,"ANSWERED",'
            f'"BILLING","{i}.1",""\n'
            for i, start in enumerate(starts)
        )
    )
    return path


def test_the_cached_reconciliation_equals_the_computed_one_and_follows_imports_and_rating(
    cli: Cli, redis_env: str, committed_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        factories.contract(session, group, accountcode="ACME01")
    first = _asterisk_csv(tmp_path / "first.csv", "2025-11-05 10:00:00")
    assert cli("cdr", "import", str(first), "--format", "asterisk-csv").exit_code == 0

    def reconciled() -> dict[str, Any]:
        result = cli("billing", "reconcile", "--month", "11", "--year", "2025", "--format", "json")
        assert result.exit_code == 0, result.output
        body: dict[str, Any] = json.loads(result.stdout)
        return body

    imported = reconciled()
    assert reconciled() == imported  # from the cache
    assert any(b":cache:reconciliation:" in key for key in _redis_keys(redis_env))
    assert imported["calls"] == 1

    second = _asterisk_csv(tmp_path / "second.csv", "2025-11-06 10:00:00")
    assert cli("cdr", "import", str(second), "--format", "asterisk-csv").exit_code == 0
    assert reconciled()["calls"] == 2  # the import invalidated it

    assert (
        cli("cdr", "process-billing", "--from", "2025-11-05", "--to", "2025-11-06").exit_code == 0
    )
    rated = reconciled()
    [acme] = rated["contracts"]
    assert (acme["rated_calls"], acme["rated_money"]) == (2, "2400.000000")

    monkeypatch.delenv("TELECRM_REDIS_URL")
    get_settings.cache_clear()
    assert reconciled() == rated  # the same answer, computed without the cache


def _redis_keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(TEST_REDIS_URL).scan_iter(f"{prefix}:*"))
