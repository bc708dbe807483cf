"""``telecrm invoices generate|list|pdf``, end to end."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr
from telecrm.config import get_settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING
from telecrm.invoices import service
from telecrm.invoices.models import Invoice
from telecrm.invoices.service import Transition
from telecrm.rates.models import Rate
from tests import factories
from tests.conftest import CliResult


def test_generate_list_and_pdf(
    cli: Callable[..., CliResult], tmp_path: Path, committed_db: Engine
) -> None:
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        rate = factories.rate(session, group, "62812", description="Telkomsel")
        contract = factories.contract(session, group, accountcode="MAJU01", tax_rate="11")
        start = dt.datetime(2025, 11, 5, tzinfo=dt.UTC)
        factories.cdr(session, contract, start, rate, cost="1000.005")
        factories.cdr(session, contract, start, billsec=30)  # not rated yet

    generated = cli("invoices", "generate", "--month", "11", "--year", "2025")
    assert generated.exit_code == 0, generated.output
    assert "1 invoices created" in generated.stdout
    assert "1 calls not rated yet" in generated.stdout
    assert "INV-2025-000001" in generated.stdout and "MAJU01" in generated.stdout

    listed = cli("invoices", "list", "--month", "11", "--year", "2025", "--format", "json")
    [invoice] = json.loads(listed.stdout)
    assert (invoice["invoice_number"], invoice["subtotal"], invoice["tax"], invoice["amount"]) == (
        "INV-2025-000001",
        "1000.01",
        "110.00",
        "1110.01",
    )
    assert (invoice["period"], invoice["status"], invoice["due_date"]) == (
        "2025-11",
        "draft",
        "2025-12-31",
    )
    assert (
        json.loads(
            cli("invoices", "list", "--month", "10", "--year", "2025", "--format", "json").stdout
        )
        == []
    )

    target = tmp_path / "invoice.pdf"
    written = cli("invoices", "pdf", "INV-2025-000001", "--output", str(target))
    assert written.exit_code == 0, written.output
    assert target.read_bytes().startswith(b"%PDF-")
    missing = cli("invoices", "pdf", "INV-1999-000001")
    assert missing.exit_code == 1 and "not found" in missing.stderr


def test_generate_says_how_many_late_calls_it_billed_and_their_money(
    cli: Callable[..., CliResult], committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        rate = factories.rate(session, group, "62812", description="Telkomsel")
        contract = factories.contract(session, group, accountcode="MAJU01")
        factories.cdr(session, contract, dt.datetime(2025, 11, 5, tzinfo=dt.UTC), rate, cost="10")
        contract_id, rate_id = contract.id, rate.id
    assert cli("invoices", "generate", "--month", "11", "--year", "2025").exit_code == 0
    with Session(committed_db) as session, session.begin():
        [november] = session.scalars(select(Invoice)).all()
        service.transition(session, EVERYTHING, november.id, Transition.SEND)
        for cost in ("1234.5", "0.004"):
            start = dt.datetime(2025, 11, 6, tzinfo=dt.UTC)
            factories.cdr(
                session,
                session.get_one(Contract, contract_id),
                start,
                session.get_one(Rate, rate_id),
                cost=cost,
            )

    nothing = cli("invoices", "generate", "--month", "10", "--year", "2025")
    assert "late calls: none of earlier months to bill" in nothing.stdout
    generated = cli("invoices", "generate", "--month", "12", "--year", "2025")

    assert generated.exit_code == 0, generated.output
    assert (
        "late calls: 2 calls of earlier months on 1 invoices (INV-2025-000002): IDR 1,234.50"
        in generated.stdout
    )

    monkeypatch.setenv("TELECRM_LATE_CALLS", "adjustment")
    get_settings.cache_clear()
    adjusted = cli("invoices", "generate", "--month", "12", "--year", "2025")
    assert (
        "late calls: 2 calls of earlier months on 1 adjustments (INV-2025-000003): IDR 1,234.50"
        in adjusted.stdout
    )
    listed = cli("invoices", "list", "--month", "11", "--year", "2025", "--format", "json")
    kinds = {row["invoice_number"]: row["kind"] for row in json.loads(listed.stdout)}
    assert kinds == {"INV-2025-000001": "monthly", "INV-2025-000003": "adjustment"}


def _master_csv(path: Path, *calls: tuple[str, int, str]) -> Path:
    """An Asterisk Master.csv of answered calls: (start, billsec, uniqueid)."""
    fields = '"ACME01","1001","081234567890","from-internal","","","","Dial",""'
    path.write_text(
        "".join(
            f'{fields},"{start}","{start}","{start}",{billsec + 3},{billsec},"ANSWERED",'
            f'"BILLING","{uniqueid}",""\n'
            for start, billsec, uniqueid in calls
        )
    )
    return path


def test_a_call_imported_and_rated_after_its_month_was_sent_is_billed_next_month(
    cli: Callable[..., CliResult], committed_db: Engine, tmp_path: Path
) -> None:
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        factories.contract(session, group, accountcode="ACME01", tax_rate="11")
    november = _master_csv(tmp_path / "november.csv", ("2025-11-05 10:00:00", 60, "1.1"))
    assert cli("cdr", "import", str(november), "--format", "asterisk-csv").exit_code == 0
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    assert cli("invoices", "generate", "--month", "11", "--year", "2025").exit_code == 0
    with Session(committed_db) as session, session.begin():
        [sent_id] = session.scalars(select(Invoice.id)).all()
        service.transition(session, EVERYTHING, sent_id, Transition.SEND)

    arrived = _master_csv(
        tmp_path / "arrived.csv",
        ("2025-11-20 10:00:00", 61, "1.2"),  # November's, late: 2 minutes, 2,400
        ("2025-12-03 10:00:00", 60, "1.3"),
    )
    assert cli("cdr", "import", str(arrived), "--format", "asterisk-csv").exit_code == 0
    rated = cli("cdr", "process-billing", "--from", "2025-11-20", "--to", "2025-12-03")
    assert rated.exit_code == 0, rated.output
    december = cli("invoices", "generate", "--month", "12", "--year", "2025")

    assert december.exit_code == 0, december.output
    assert (
        "late calls: 1 calls of earlier months on 1 invoices (INV-2025-000002): IDR 2,400.00"
        in december.stdout
    )
    with Session(committed_db) as session, session.begin():
        invoice = session.scalars(select(Invoice).where(Invoice.id != sent_id)).one()
        assert (invoice.subtotal, invoice.tax, invoice.amount) == (
            Decimal(3600),
            Decimal(396),
            Decimal(3996),
        )
        service.transition(session, EVERYTHING, invoice.id, Transition.SEND)
        calls = {cdr.call_id: cdr for cdr in session.scalars(select(Cdr))}
        assert [calls[c].invoice_id for c in ("1.1", "1.2", "1.3")] == [
            sent_id,
            invoice.id,
            invoice.id,
        ]
        assert calls["1.2"].lifecycle_status == "invoiced"
    again = cli("invoices", "generate", "--month", "1", "--year", "2026")
    assert "late calls: none of earlier months to bill" in again.stdout
