"""``telecrm cdr process-billing``, end to end: the CDRs of the billing time zone's
days rated by the engine and written back, settled invoices left alone."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.cdrs.rating_run import repository, service
from telecrm.cdrs.window import day_window
from telecrm.config import get_settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING
from telecrm.db import session_scope
from telecrm.invoices import service as invoices_service
from telecrm.invoices.models import Invoice, InvoiceStatus
from telecrm.invoices.service import Transition
from telecrm.rates.models import Rate
from tests import factories
from tests.cdrs.conftest import WIB
from tests.concurrency import at_once, meet_after
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def figure(output: str, label: str) -> str:
    """The value of a row of the summary table."""
    found = re.search(rf"│ {re.escape(label)}\s+│ (\S+)", output)
    assert found, output
    return found.group(1)


def cdr_of(engine: Engine, cdr_id: int) -> Cdr:
    with Session(engine) as session:
        cdr = session.get(Cdr, cdr_id)
        assert cdr is not None
        return cdr


def test_process_billing_rates_the_day_of_the_billing_time_zone(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    result = cli("cdr", "process-billing", "--date", "2025-11-05")
    assert result.exit_code == 0, result.output
    assert "2025-11-05" in result.stdout and "(Asia/Jakarta)" in result.stdout
    assert {
        label: figure(result.stdout, label)
        for label in (
            "CDRs processed",
            "rated",
            "rated at zero cost",
            "unrated: internal",
            "unrated: no_contract",
            "total cost IDR",
        )
    } == {
        "CDRs processed": "5",
        "rated": "3",
        "rated at zero cost": "1",
        "unrated: internal": "1",
        "unrated: no_contract": "1",
        "total cost IDR": "6525.000000",
    }
    early = cdr_of(committed_db, calls["early"])
    assert (early.rating_status.value, early.cleaned_number, early.matched_prefix) == (
        "rated",
        "628123456789",
        "62812",
    )
    assert (early.billable_seconds, early.cost) == (61, Decimal("1525"))
    assert early.rated_at is not None
    late = cdr_of(committed_db, calls["late"])
    assert (late.matched_prefix, late.billable_seconds, late.cost) == ("62", 60, Decimal(5000))
    assert cdr_of(committed_db, calls["unanswered"]).cost == Decimal(0)
    stranger = cdr_of(committed_db, calls["stranger"])
    assert (stranger.rating_status.value, stranger.rating_reason) == ("unrated", "no_contract")
    assert cdr_of(committed_db, calls["next_day"]).rating_status.value == "pending"


def test_a_range_and_what_is_rated_is_not_rated_again_without_rerate(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    assert (
        cli("cdr", "process-billing", "--from", "2025-11-04", "--to", "2025-11-06").exit_code == 0
    )
    assert cdr_of(committed_db, calls["next_day"]).cost == Decimal(250)
    with Session(committed_db) as session, session.begin():
        session.execute(
            update(Rate).values(billing_rate=Decimal(30)).where(Rate.area_prefix == "812")
        )
    again = cli("cdr", "process-billing", "--date", "2025-11-05")
    assert figure(again.stdout, "CDRs processed") == "2"  # the unrated ones, tried again
    assert cdr_of(committed_db, calls["early"]).cost == Decimal(1525)


def test_rerate_leaves_calls_on_a_sent_invoice_alone(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    with Session(committed_db) as session, session.begin():
        contract_id = cdr_of(committed_db, calls["early"]).contract_id
        contract = session.get(Contract, contract_id)
        sent = factories.invoice(session, contract, status=InvoiceStatus.SENT)
        draft = factories.invoice(
            session,
            contract,
            status=InvoiceStatus.DRAFT,
            period_start=dt.datetime(2025, 10, 1, tzinfo=dt.UTC),
        )
        for call, invoice in (("early", sent), ("late", draft)):
            session.execute(
                update(CdrRating)
                .where(CdrRating.cdr_id == calls[call])
                .values(invoice_id=invoice.id)
            )
        session.execute(
            update(Rate).values(billing_rate=Decimal(30)).where(Rate.area_prefix == "812")
        )
        session.execute(
            update(Rate).values(billing_rate=Decimal(6000)).where(Rate.area_prefix == "")
        )
    result = cli("cdr", "process-billing", "--date", "2025-11-05", "--rerate")
    assert result.exit_code == 0, result.output
    assert figure(result.stdout, "ratings changed") == "1"
    assert cdr_of(committed_db, calls["early"]).cost == Decimal(1525)  # sent: untouched
    assert cdr_of(committed_db, calls["late"]).cost == Decimal(6000)  # a draft's: re-rated


def test_rerate_skips_the_calls_of_an_invoice_once_it_is_sent(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    assert cli("invoices", "generate", "--month", "11", "--year", "2025").exit_code == 0
    with Session(committed_db) as session, session.begin():
        invoice_id = session.scalars(select(Invoice.id)).one()
        invoices_service.transition(session, EVERYTHING, invoice_id, Transition.SEND)
        session.execute(
            update(Rate).values(billing_rate=Decimal(30)).where(Rate.area_prefix == "812")
        )
    assert cdr_of(committed_db, calls["early"]).invoice_id == invoice_id
    result = cli("cdr", "process-billing", "--date", "2025-11-05", "--rerate")
    assert result.exit_code == 0, result.output
    assert figure(result.stdout, "ratings changed") == "0"
    assert cdr_of(committed_db, calls["early"]).cost == Decimal(1525)


def test_a_valid_cdr_moves_to_rated_one_not_validated_keeps_its_status(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    with Session(committed_db) as session, session.begin():
        session.execute(update(Cdr).where(Cdr.id == calls["early"]).values(status="valid"))
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    assert cdr_of(committed_db, calls["early"]).lifecycle_status == "rated"
    assert cdr_of(committed_db, calls["late"]).lifecycle_status == "new"


def test_bad_reference_data_stops_rating_with_the_reason(
    cli: Cli, committed_db: Engine, calls: dict[str, int]
) -> None:
    with Session(committed_db) as session, session.begin():
        session.execute(update(Rate).values(area_prefix="8x").where(Rate.area_prefix == "812"))
    result = cli("cdr", "process-billing", "--date", "2025-11-05")
    assert result.exit_code == 1
    assert "cannot rate: rate(s)" in result.stderr and "not digits" in result.stderr
    assert cdr_of(committed_db, calls["early"]).rating_status.value == "pending"


def test_two_runs_of_the_same_day_at_once_rate_each_call_once(
    committed_db: Engine, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # both runs read the day's calls before either writes a rating, where they can
    meet_after(monkeypatch, repository, "ratable_cdrs", parties=2)
    settings = get_settings()
    window = day_window(dt.date(2025, 11, 5), dt.date(2025, 11, 5), settings.timezone)

    def run() -> int:  # as 'telecrm cdr process-billing --date 2025-11-05' does
        with session_scope() as session:
            return service.process_billing(session, *window, False, settings).changed

    changed = at_once(run, run)

    assert sorted(changed) == [0, 5]  # the second found the day rated
    assert cdr_of(committed_db, calls["early"]).cost == Decimal(1525)
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(CdrRating)) == 5


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--date", "2025-11-05", "--from", "2025-11-01"),
        ("--from", "2025-11-05"),
        ("--date", "5 Nov"),
        ("--from", "2025-11-05", "--to", "2025-11-01"),
    ],
)
def test_window_options_are_checked(cli: Cli, jakarta: None, args: tuple[str, ...]) -> None:
    result = cli("cdr", "process-billing", *args)
    assert result.exit_code == 1 and "error:" in result.stderr


def test_rating_respects_a_db_rate_that_ends(committed_db: Engine, cli: Cli, jakarta: None) -> None:
    """Rates are read with their effective dates from the database."""
    change = dt.datetime(2025, 11, 5, 12, tzinfo=WIB)
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="100", effective_to=change)
        factories.rate(session, group, "62", billing_rate="200", effective_from=change)
        contract = factories.contract(session, group)
        before = factories.cdr(session, contract, change - dt.timedelta(minutes=1), billsec=60)
        after = factories.cdr(session, contract, change, billsec=60)
        ids = before.id, after.id
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    with Session(committed_db) as session:
        costs = session.scalars(
            select(CdrRating.cost).where(CdrRating.cdr_id.in_(ids)).order_by(CdrRating.cdr_id)
        ).all()
    assert costs == [Decimal(100), Decimal(200)]


def test_a_call_is_billed_whoever_the_caller_is(
    cli: Cli, committed_db: Engine, jakarta: None, tmp_path: Path
) -> None:
    """RATING.md: the caller's number never excludes a call. Withheld (empty src),
    ``anonymous`` and a named SIP extension are rated, invoiced and linked on sending,
    like extension 1001; the finding about the caller stays on the call."""
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        factories.contract(session, group, accountcode="ACME01")
    callers = {"1.1": "1001", "1.2": "", "1.3": "anonymous", "1.4": "alice"}
    master = tmp_path / "Master.csv"
    master.write_text(
        "".join(
            f'"ACME01","{src}","081234567890","from-internal","","","","Dial","",'
            f'"2025-11-05 10:0{n}:00","2025-11-05 10:0{n}:05","2025-11-05 10:0{n}:06",'
            f'66,61,"ANSWERED","BILLING","{call_id}",""\n'
            for n, (call_id, src) in enumerate(callers.items())
        )
    )
    imported = cli("cdr", "import", str(master), "--format", "asterisk-csv")
    assert imported.exit_code == 0, imported.output
    billed = cli("cdr", "process-billing", "--date", "2025-11-05")
    assert billed.exit_code == 0, billed.output
    assert cli("invoices", "generate", "--month", "11", "--year", "2025").exit_code == 0
    with Session(committed_db) as session, session.begin():
        invoice = session.scalars(select(Invoice)).one()
        assert (invoice.call_count, invoice.subtotal) == (4, Decimal("9600"))
        invoices_service.transition(session, EVERYTHING, invoice.id, Transition.SEND)
    with Session(committed_db) as session:
        cdrs = {c.call_id: c for c in session.scalars(select(Cdr))}
        assert {
            call_id: (c.src, c.lifecycle_status, c.cost, c.validation_errors)
            for call_id, c in cdrs.items()
        } == {
            "1.1": ("1001", "invoiced", Decimal("2400"), None),
            "1.2": ("", "invoiced", Decimal("2400"), ["missing_src"]),
            "1.3": ("anonymous", "invoiced", Decimal("2400"), ["src_not_a_number"]),
            "1.4": ("alice", "invoiced", Decimal("2400"), ["src_not_a_number"]),
        }


def cell(output: str, first: str, column: int) -> str:
    """The ``column``-th cell (0: the first) of the table row that starts with ``first``."""
    for line in output.splitlines():
        cells = [part.strip() for part in line.strip("│ ").split("│")]
        if cells and cells[0] == first:
            return cells[column]
    raise AssertionError(f"no row {first!r} in {output}")


def test_every_call_left_off_the_bill_is_reported(
    cli: Cli, committed_db: Engine, jakarta: None, tmp_path: Path
) -> None:
    """Each kind of call that is not billed (unrated by reason, invalid by finding) and
    each finding on a billed call shows up in the import summary, process-billing,
    invoices generate and the export; none of them is shown pending."""
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        factories.contract(session, group, accountcode="ACME01")
    calls = {
        "1.1": ("ACME01", "1001", "081234567890", 61, 61, "ANSWERED"),
        "1.2": ("ACME01", "anonymous", "081234567890", 61, 61, "ANSWERED"),
        "1.3": ("ACME01", "1001", "081234567890", 61, 600, "ANSWERED"),
        "1.4": ("ACME01", "1001", "081234567890", 20, 0, "NO ANSWER"),
        "1.5": ("WHO", "1001", "081234567890", 61, 61, "ANSWERED"),
        "1.6": ("ACME01", "1001", "s", 61, 61, "ANSWERED"),
        "1.7": ("ACME01", "1001", "1002", 61, 61, "ANSWERED"),
    }
    master = tmp_path / "Master.csv"
    master.write_text(
        "".join(
            f'"{account}","{src}","{dst}","from-internal","","","","Dial",'
            f'"","2025-11-05 10:0{n}:00","","2025-11-05 10:0{n}:59",'
            f'{duration},{billsec},"{disposition}","BILLING","{call_id}",""\n'
            for n, (call_id, (account, src, dst, duration, billsec, disposition)) in enumerate(
                calls.items()
            )
        )
    )
    imported = cli("cdr", "import", str(master), "--format", "asterisk-csv")
    assert imported.exit_code == 0, imported.output
    assert (cell(imported.stdout, "Master.csv", 5), cell(imported.stdout, "Master.csv", 6)) == (
        "3",
        "1",
    )
    assert {
        finding: (cell(imported.stdout, finding, 1), cell(imported.stdout, finding, 2))
        for finding in ("src_not_a_number", "billsec_exceeds_duration", "dst_not_a_number")
    } == {
        "src_not_a_number": ("1", "billed"),
        "billsec_exceeds_duration": ("1", "invalid"),
        "dst_not_a_number": ("1", "billed"),
    }

    billed = cli("cdr", "process-billing", "--date", "2025-11-05")
    assert billed.exit_code == 0, billed.output
    assert {
        label: figure(billed.stdout, label)
        for label in (
            "rated",
            "rated at zero cost",
            "unrated: internal",
            "unrated: invalid_number",
            "unrated: no_contract",
            "excluded as invalid",
            "invalid: billsec_exceeds_duration",
        )
    } == {
        "rated": "3",
        "rated at zero cost": "1",
        "unrated: internal": "1",
        "unrated: invalid_number": "1",
        "unrated: no_contract": "1",
        "excluded as invalid": "1",
        "invalid: billsec_exceeds_duration": "1",
    }

    generated = cli("invoices", "generate", "--month", "11", "--year", "2025")
    assert generated.exit_code == 0, generated.output
    assert "3 unrated calls, 1 invalid calls" in " ".join(generated.stdout.split())

    exported = cli("cdr", "export", "--from", "2025-11-05", "--to", "2025-11-05")
    assert exported.exit_code == 0, exported.output
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(exported.stdout))}
    as_json = cli("cdr", "export", "--from", "2025-11-05", "--to", "2025-11-05", "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    with Session(committed_db) as session:
        ids = {c.call_id: str(c.id) for c in session.scalars(select(Cdr))}
    expected = {
        "1.1": ("rated", "rated", "", ""),
        "1.2": ("rated", "rated", "", "src_not_a_number"),
        "1.3": ("invalid", "", "", "billsec_exceeds_duration"),
        "1.4": ("rated", "rated", "", ""),
        "1.5": ("unrated", "unrated", "no_contract", ""),
        "1.6": ("unrated", "unrated", "invalid_number", "dst_not_a_number"),
        "1.7": ("unrated", "unrated", "internal", ""),
    }
    fields = ("status", "rating_status", "rating_reason", "validation_errors")
    assert {
        call_id: tuple(rows[ids[call_id]][name] for name in fields) for call_id in calls
    } == expected
    json_rows = {str(row["id"]): row for row in json.loads(as_json.stdout)}
    assert {
        call_id: tuple(json_rows[ids[call_id]][name] for name in fields) for call_id in calls
    } == {
        call_id: (
            status,
            rating or None,
            reason or None,
            findings.split(";") if findings else None,
        )
        for call_id, (status, rating, reason, findings) in expected.items()
    }

    reconciled = cli("billing", "reconcile", "--month", "11", "--year", "2025", "--format", "json")
    assert reconciled.exit_code == 0, reconciled.output
    body = json.loads(reconciled.stdout)
    buckets = {
        (account["accountcode"], bucket["bucket"], bucket["reason"]): bucket["calls"]
        for account in body["contracts"] + body["no_contract"]
        for bucket in account["buckets"]
    }
    assert buckets == {
        ("ACME01", "invalid", None): 1,
        ("ACME01", "unrated", "internal"): 1,
        ("ACME01", "unrated", "invalid_number"): 1,
        ("ACME01", "on_draft", None): 3,
        ("WHO", "unrated", "no_contract"): 1,
    }
    assert body["contracts"][0]["invalid_findings"] == {"billsec_exceeds_duration": 1}


def test_a_called_number_that_is_no_number_is_unrated_invalid_number(
    cli: Cli, committed_db: Engine, jakarta: None
) -> None:
    """Whatever validation found about it, the call is rating's: unrated with reason
    invalid_number (RATING.md §1.3), and it keeps its findings."""
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        contract = factories.contract(session, group, accountcode="ACME01")
        start = dt.datetime(2025, 11, 5, 10, tzinfo=WIB)
        ids = [factories.cdr(session, contract, start, dst=dst).id for dst in ("s", "")]
    assert cli("cdr", "validate").exit_code == 0
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    with Session(committed_db) as session:
        cdrs = [session.get(Cdr, cdr_id) for cdr_id in ids]
        assert [(c.lifecycle_status, c.rating_reason, c.validation_errors) for c in cdrs if c] == [
            ("unrated", "invalid_number", ["dst_not_a_number"]),
            ("unrated", "invalid_number", ["missing_dst"]),
        ]


def test_an_invalid_call_is_kept_but_never_rated_nor_invoiced(
    cli: Cli, committed_db: Engine, jakarta: None, tmp_path: Path
) -> None:
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="1200", billing_cycle=60)
        factories.contract(session, group, accountcode="ACME01")
    master = tmp_path / "Master.csv"
    fields = '"ACME01","1001","081234567890","from-internal","","","","Dial",""'
    master.write_text(
        f'{fields},"2025-11-05 10:00:00","2025-11-05 10:00:05","2025-11-05 10:01:05",'
        '65,60,"ANSWERED","BILLING","1.1",""\n'
        # billsec longer than the call: a PBX bug, not something to bill
        f'{fields},"2025-11-05 11:00:00","2025-11-05 11:00:05","2025-11-05 11:01:05",'
        '65,600,"ANSWERED","BILLING","1.2",""\n'
    )
    imported = cli("cdr", "import", str(master), "--format", "asterisk-csv")
    assert imported.exit_code == 0, imported.output
    assert cli("cdr", "process-billing", "--date", "2025-11-05").exit_code == 0
    generated = cli("invoices", "generate", "--month", "11", "--year", "2025")
    assert generated.exit_code == 0, generated.output
    with Session(committed_db) as session:
        cdrs = {c.call_id: c for c in session.scalars(select(Cdr))}
    good, bad = cdrs["1.1"], cdrs["1.2"]
    assert (good.lifecycle_status, good.cost) == ("rated", Decimal("1200"))
    assert good.invoice_id is None  # a draft holds no calls: sending links them
    with Session(committed_db) as session:
        draft = session.scalars(select(Invoice)).one()
    assert (draft.call_count, draft.subtotal) == (1, Decimal("1200"))
    assert bad.status == "invalid"
    assert bad.validation_errors == ["billsec_exceeds_duration"]
    # never shown pending: nothing rates it until it is corrected
    assert (bad.rating_status, bad.cost, bad.invoice_id) == (None, None, None)
