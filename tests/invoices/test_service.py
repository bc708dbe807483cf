"""Invoice generation against the database: totals, lines, linking, re-runs,
frozen invoices, numbering, the time-zone month boundary."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.lifecycle import repository as cdr_status_repository
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING, ContractScope
from telecrm.db import session_factory
from telecrm.errors import Conflict, NotFound, ValidationFailed
from telecrm.invoices import service
from telecrm.invoices.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    InvoiceStatus,
)
from telecrm.invoices.service import Transition, refusal
from telecrm.rates.models import Rate
from telecrm.rating.types import RateType, RatingStatus
from tests import factories

NOV = dt.datetime(2025, 11, 10, 9, tzinfo=dt.UTC)


@pytest.fixture()
def jakarta(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezone": "Asia/Jakarta"})


def _lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        )
    )


def _invoice_of(session: Session, contract_id: int) -> Invoice:
    return session.scalars(select(Invoice).where(Invoice.contract_id == contract_id)).one()


def _linked(session: Session, invoice: Invoice | None = None) -> list[int]:
    """The ids of the calls on ``invoice``, or on any invoice."""
    on_invoice = (
        CdrRating.invoice_id.is_not(None) if invoice is None else CdrRating.invoice_id == invoice.id
    )
    return list(
        session.scalars(select(CdrRating.cdr_id).where(on_invoice).order_by(CdrRating.cdr_id))
    )


def _send(session: Session, invoice: Invoice) -> Invoice:
    return service.transition(session, EVERYTHING, invoice.id, Transition.SEND)


def test_one_invoice_per_contract_with_exact_totals_and_lines(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    mobile = factories.rate(db_session, group, "62812", description="Indonesia Mobile Telkomsel")
    fixed = factories.rate(db_session, group, "6221", description="Jakarta Fixed")
    contract = factories.contract(db_session, group, tax_rate="11")
    for cost in ("2400.123456", "2400.123456", "1200.000001"):
        factories.cdr(
            db_session, contract, NOV, mobile, cost=cost, billsec=61, billable_seconds=120
        )
    factories.cdr(db_session, contract, NOV, fixed, cost="0.004", billsec=5, billable_seconds=60)
    unanswered = factories.cdr(db_session, contract, NOV, mobile, cost="0", billsec=0)
    other = factories.contract(db_session, group)
    factories.cdr(db_session, other, NOV, mobile, cost="1000")
    factories.contract(db_session, group)  # no calls: no invoice

    summary = service.generate(db_session, 2025, 11, settings)

    assert (summary.created, summary.updated, summary.removed, summary.kept) == (2, 0, 0, 0)
    assert summary.invoiced_calls == 6
    invoice = _invoice_of(db_session, contract.id)
    # 6000.246913 + 0.004 = 6000.250913: rounded once to 6000.25; 11 % = 660.0275 -> 660.03
    assert (invoice.subtotal, invoice.tax, invoice.amount) == (
        Decimal("6000.25"),
        Decimal("660.03"),
        Decimal("6660.28"),
    )
    assert invoice.call_count == 4  # the unanswered call is on the invoice, not billed
    assert invoice.status == InvoiceStatus.DRAFT
    assert (invoice.currency, invoice.tax_rate, invoice.accountcode) == (
        "IDR",
        Decimal(11),
        contract.accountcode,
    )
    assert [
        (line.description, line.prefix, line.call_count, line.billable_seconds, line.amount)
        for line in _lines(db_session, invoice)
    ] == [
        ("Indonesia Mobile Telkomsel", "62812", 3, 360, Decimal("6000.246913")),
        ("Jakarta Fixed", "6221", 1, 60, Decimal("0.004")),
    ]
    assert _linked(db_session) == []  # calls are linked when the invoice is sent
    _send(db_session, invoice)
    linked = _linked(db_session, invoice)
    assert len(linked) == 5 and unanswered.id in linked
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.period_start == summary.period_start)
        )
        == 2
    )


def test_destinations_without_description_are_named_by_prefix(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "44", description=None)
    contract = factories.contract(db_session, group)
    factories.cdr(db_session, contract, NOV, rate, cost="5")
    service.generate(db_session, 2025, 11, settings)
    [line] = _lines(db_session, _invoice_of(db_session, contract.id))
    assert (line.description, line.prefix) == ("44", "44")


def test_rates_sharing_a_description_make_one_line_without_a_single_prefix(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    contract = factories.contract(db_session, group)
    for prefix in ("62811", "62812"):
        rate = factories.rate(db_session, group, prefix, description="Telkomsel")
        factories.cdr(db_session, contract, NOV, rate, cost="1")
    service.generate(db_session, 2025, 11, settings)
    [line] = _lines(db_session, _invoice_of(db_session, contract.id))
    assert (line.description, line.prefix, line.call_count) == ("Telkomsel", None, 2)


def test_the_month_is_cut_at_midnight_in_the_billing_time_zone(
    db_session: Session, jakarta: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group, tax_rate="0")
    # 2025-11-01 00:30 in Jakarta: November there, still October in UTC
    factories.cdr(
        db_session, contract, dt.datetime(2025, 10, 31, 17, 30, tzinfo=dt.UTC), rate, cost="1"
    )
    # 2025-10-31 23:59 in Jakarta: October
    factories.cdr(
        db_session, contract, dt.datetime(2025, 10, 31, 16, 59, tzinfo=dt.UTC), rate, cost="10"
    )
    # 2025-12-01 00:00 in Jakarta: December
    factories.cdr(
        db_session, contract, dt.datetime(2025, 11, 30, 17, 0, tzinfo=dt.UTC), rate, cost="100"
    )
    # 2025-11-30 23:59:59 in Jakarta: November
    factories.cdr(
        db_session,
        contract,
        dt.datetime(2025, 11, 30, 16, 59, 59, tzinfo=dt.UTC),
        rate,
        cost="1000",
    )

    summary = service.generate(db_session, 2025, 11, jakarta)

    invoice = _invoice_of(db_session, contract.id)
    assert invoice.subtotal == Decimal("1001.00")
    assert (
        invoice.period_start == summary.period_start == dt.datetime(2025, 10, 31, 17, tzinfo=dt.UTC)
    )
    assert (invoice.invoice_date, invoice.due_date) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def test_rerunning_regenerates_drafts_in_place_and_keeps_their_numbers(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group, tax_rate="0")
    factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)
    first = _invoice_of(db_session, contract.id)
    number, invoice_id = first.invoice_number, first.id

    factories.cdr(db_session, contract, NOV, rate, cost="50")
    summary = service.generate(db_session, 2025, 11, settings)

    assert (summary.created, summary.updated) == (0, 1)
    again = _invoice_of(db_session, contract.id)
    assert (again.id, again.invoice_number, again.subtotal) == (invoice_id, number, Decimal(150))
    assert len(_lines(db_session, again)) == 1
    assert _linked(db_session) == []


def test_a_call_rerated_away_leaves_the_draft_and_an_empty_draft_is_removed(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    call = factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)

    factories.rate_cdr(
        db_session, call, rating_status=RatingStatus.UNRATED, rating_reason="no_rate", cost=None
    )
    summary = service.generate(db_session, 2025, 11, settings)

    assert (summary.removed, summary.unrated_calls) == (1, 1)
    assert db_session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).all() == []
    db_session.refresh(call)
    assert call.invoice_id is None


@pytest.mark.parametrize(
    "status", [InvoiceStatus.SENT, InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.PAID]
)
def test_an_invoice_that_left_draft_is_never_touched_nor_its_calls(
    db_session: Session, settings: Settings, status: InvoiceStatus
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    on_invoice = factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)
    invoice = _send(db_session, _invoice_of(db_session, contract.id))
    invoice.status = status
    db_session.flush()
    before = (invoice.invoice_number, invoice.subtotal, invoice.amount, invoice.updated_at)

    late = factories.cdr(db_session, contract, NOV, rate, cost="999")
    # even a changed cost does not reopen a sent invoice
    factories.rate_cdr(db_session, on_invoice, cost=Decimal(1))
    summary = service.generate(db_session, 2025, 11, settings)

    db_session.refresh(invoice)
    assert (invoice.invoice_number, invoice.subtotal, invoice.amount, invoice.updated_at) == before
    assert invoice.status == status
    assert (summary.kept, summary.late_calls, summary.created) == (1, 1, 0)
    db_session.refresh(late)
    db_session.refresh(on_invoice)
    assert late.invoice_id is None
    assert on_invoice.invoice_id == invoice.id


def test_sending_a_draft_links_the_calls_it_was_generated_from(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    billed = [factories.cdr(db_session, contract, NOV, rate, cost=c) for c in ("1.5", "2.25")]
    unanswered = factories.cdr(db_session, contract, NOV, rate, cost="0", billsec=0)
    other = factories.cdr(db_session, factories.contract(db_session, group), NOV, rate, cost="9")
    october = factories.cdr(db_session, contract, NOV - dt.timedelta(days=30), rate, cost="7")
    service.generate(db_session, 2025, 11, settings)
    invoice = _invoice_of(db_session, contract.id)
    assert _linked(db_session) == []

    _send(db_session, invoice)

    assert invoice.status == InvoiceStatus.SENT
    assert _linked(db_session, invoice) == sorted([*(c.id for c in billed), unanswered.id])
    assert set(_linked(db_session)).isdisjoint({other.id, october.id})


def _rerated(session: Session, call: Cdr) -> None:
    factories.rate_cdr(session, call, cost=Decimal("100.000001"))


def _found_invalid(session: Session, call: Cdr) -> None:
    """Validated late (it was rated while new): found invalid, it loses its rating."""
    cdr_status_repository.mark_invalid(session, {call.id: ["billsec is longer than duration"]})
    session.refresh(call)
    assert (call.status, call.rating) == (CdrState.INVALID.value, None)


def _unrated(session: Session, call: Cdr) -> None:
    factories.rate_cdr(
        session, call, rating_status=RatingStatus.UNRATED, rating_reason="no_rate", cost=None
    )


@pytest.mark.parametrize("change", [_rerated, _found_invalid, _unrated])
def test_a_draft_whose_calls_changed_since_it_was_generated_is_not_sent(
    db_session: Session, settings: Settings, change: Callable[[Session, Cdr], None]
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    factories.cdr(db_session, contract, NOV, rate, cost="50")
    call = factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)
    invoice = _invoice_of(db_session, contract.id)
    change(db_session, call)
    db_session.flush()

    with pytest.raises(Conflict, match="calls changed since the draft was generated"):
        _send(db_session, invoice)


def test_a_call_imported_after_the_draft_stops_it_being_sent_until_generated_again(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)
    late = factories.cdr(db_session, contract, NOV, rate, cost="0.000001")

    with pytest.raises(Conflict, match="invoices generate"), db_session.begin_nested():
        _send(db_session, _invoice_of(db_session, contract.id))
    db_session.expire_all()

    invoice = _invoice_of(db_session, contract.id)
    assert (invoice.status, _linked(db_session)) == (InvoiceStatus.DRAFT, [])
    service.generate(db_session, 2025, 11, settings)
    _send(db_session, invoice)
    assert invoice.subtotal == Decimal("100.00") and late.id in _linked(db_session, invoice)


def test_numbers_are_sequential_per_year_and_never_reused(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    first, second = (
        factories.contract(db_session, group, accountcode=code) for code in ("A1", "A2")
    )
    dropped = factories.cdr(db_session, first, NOV, rate, cost="1")
    factories.cdr(db_session, second, NOV, rate, cost="1")
    service.generate(db_session, 2025, 11, settings)
    numbers = {c.accountcode: _invoice_of(db_session, c.id).invoice_number for c in (first, second)}
    assert numbers == {"A1": "INV-2025-000001", "A2": "INV-2025-000002"}

    # A1's draft goes away (its call is rerated away) and comes back: a new number.
    factories.rate_cdr(db_session, dropped, rating_status=RatingStatus.UNRATED)
    service.generate(db_session, 2025, 11, settings)
    factories.rate_cdr(db_session, dropped, rating_status=RatingStatus.RATED)
    service.generate(db_session, 2025, 11, settings)
    assert _invoice_of(db_session, first.id).invoice_number == "INV-2025-000003"

    factories.cdr(db_session, first, dt.datetime(2025, 12, 3, tzinfo=dt.UTC), rate, cost="1")
    factories.cdr(db_session, first, dt.datetime(2026, 1, 3, tzinfo=dt.UTC), rate, cost="1")
    service.generate(db_session, 2025, 12, settings)
    service.generate(db_session, 2026, 1, settings)
    numbers_by_period = dict(
        db_session.execute(
            select(Invoice.period_start, Invoice.invoice_number).where(
                Invoice.contract_id == first.id
            )
        ).all()
    )
    assert sorted(numbers_by_period.values()) == [
        "INV-2025-000003",
        "INV-2025-000004",
        "INV-2026-000001",
    ]
    assert db_session.get(InvoiceSequence, 2025).last_number == 4


def test_the_number_prefix_is_a_setting(db_session: Session, settings: Settings) -> None:
    contract = factories.contract(db_session)
    factories.cdr(db_session, contract, NOV, cost="1")
    service.generate(
        db_session, 2025, 11, settings.model_copy(update={"invoice_number_prefix": "TC"})
    )
    assert _invoice_of(db_session, contract.id).invoice_number == "TC-2025-000001"


def test_calls_not_yet_rated_or_unrated_are_counted_not_invoiced(
    db_session: Session, settings: Settings
) -> None:
    contract = factories.contract(db_session)
    factories.cdr(db_session, contract, NOV)  # pending
    factories.cdr(
        db_session, contract, NOV, rating_status=RatingStatus.UNRATED, rating_reason="no_rate"
    )
    summary = service.generate(db_session, 2025, 11, settings)
    assert (summary.created, summary.pending_calls, summary.unrated_calls) == (0, 1, 1)


def test_a_contract_in_a_currency_without_known_minor_unit_is_refused(
    db_session: Session, settings: Settings
) -> None:
    contract = factories.contract(db_session, currency="XXX")
    factories.cdr(db_session, contract, NOV, cost="1")
    with pytest.raises(ValidationFailed, match="XXX"):
        service.generate(db_session, 2025, 11, settings)


def test_yen_and_dinar_contracts_round_to_their_minor_units(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, rate_type=RateType.PER_SECOND)
    yen = factories.contract(db_session, group, currency="JPY", tax_rate="10")
    dinar = factories.contract(db_session, group, currency="BHD", tax_rate="10")
    for contract in (yen, dinar):
        factories.cdr(db_session, contract, NOV, rate, cost="1234.5675")
    service.generate(db_session, 2025, 11, settings)
    assert _invoice_of(db_session, yen.id).amount == Decimal(1359)
    assert _invoice_of(db_session, dinar.id).amount == Decimal("1358.025")


def test_generation_runs_one_at_a_time_and_never_gives_a_number_twice(
    committed_db: Engine, settings: Settings
) -> None:
    factory = session_factory(committed_db)
    with factory.begin() as session:
        group = factories.rate_group(session)
        rate = factories.rate(session, group)
        for month in (1, 2):
            for _ in range(3):
                contract = factories.contract(session, group)
                start = dt.datetime(2025, month, 5, tzinfo=dt.UTC)
                factories.cdr(session, contract, start, rate, cost="1")
        session.add(InvoiceSequence(year=2025, last_number=0))
    errors: list[BaseException] = []

    def generate_february() -> None:
        try:
            with factory.begin() as session:
                service.generate(session, 2025, 2, settings)
        except BaseException as exc:  # asserted below
            errors.append(exc)

    first = factory()
    service.generate(first, 2025, 1, settings)  # holds the year's lock until it commits
    second = threading.Thread(target=generate_february)
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive(), "a second generation must wait for the first"
    first.commit()
    first.close()
    second.join(timeout=30)

    assert errors == []
    with factory() as session:
        numbers = sorted(session.scalars(select(Invoice.invoice_number)))
    assert numbers == [f"INV-2025-{n:06d}" for n in range(1, 7)]


# --- status flow --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step", "allowed"),
    [
        (
            status,
            step,
            (status, step)
            in {
                (InvoiceStatus.DRAFT, Transition.SEND),
                (InvoiceStatus.SENT, Transition.REQUEST_PAYMENT),
                (InvoiceStatus.PENDING_APPROVAL, Transition.APPROVE),
            },
        )
        for status in InvoiceStatus
        for step in Transition
    ],
)
def test_only_the_next_step_of_the_flow_is_allowed(
    status: InvoiceStatus, step: Transition, allowed: bool
) -> None:
    reason = refusal(status, step)
    assert (reason is None) == allowed
    if not allowed:
        assert f"the invoice is {status.value}" in (reason or "")


def test_a_transition_moves_the_status_and_stamps_it(db_session: Session) -> None:
    invoice = factories.invoice(db_session)
    service.transition(db_session, EVERYTHING, invoice.id, Transition.SEND)
    assert invoice.status == InvoiceStatus.SENT and invoice.sent_at is not None
    with pytest.raises(Conflict, match="only a draft invoice can be sent"):
        service.transition(db_session, EVERYTHING, invoice.id, Transition.SEND)


def test_a_customer_cannot_reach_another_contracts_invoice(db_session: Session) -> None:
    mine, theirs = factories.invoice(db_session), factories.invoice(db_session)
    scope = ContractScope(restricted=True, contract_id=mine.contract_id)
    assert service.get_invoice(db_session, scope, mine.id) is mine
    with pytest.raises(NotFound):
        service.get_invoice(db_session, scope, theirs.id)
    with pytest.raises(NotFound):
        service.get_invoice_by_number(db_session, scope, theirs.invoice_number)
    assert list(service.list_invoices(db_session, scope, ZoneInfo("UTC"))) == [mine]
    unbound = ContractScope(restricted=True, contract_id=None)
    assert list(service.list_invoices(db_session, unbound, ZoneInfo("UTC"))) == []


# --- calls that arrive after their month's invoice was sent -----------------------------

DEC = dt.datetime(2025, 12, 10, 9, tzinfo=dt.UTC)
JAN = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)


@pytest.fixture()
def by_adjustment(settings: Settings) -> Settings:
    return settings.model_copy(update={"late_calls": "adjustment"})


def _monthly(session: Session, contract_id: int, start: dt.datetime) -> Invoice:
    return session.scalars(
        select(Invoice).where(
            Invoice.contract_id == contract_id,
            Invoice.kind == InvoiceKind.MONTHLY,
            Invoice.period_start <= start,
            Invoice.period_end > start,
        )
    ).one()


def _adjustments(session: Session, contract_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.contract_id == contract_id, Invoice.kind == InvoiceKind.ADJUSTMENT)
            .order_by(Invoice.id)
        )
    )


def _sections(session: Session, invoice: Invoice) -> list[tuple[int | None, str, int, Decimal]]:
    return [
        (line.original_invoice_id, line.description, line.call_count, line.amount)
        for line in _lines(session, invoice)
    ]


def _november_sent_then_a_late_call(
    session: Session, settings: Settings
) -> tuple[Contract, Rate, Invoice, Cdr, Cdr]:
    """November invoiced and sent; then a November call arrives (and an unanswered
    one, which costs nothing but is billed all the same)."""
    group = factories.rate_group(session)
    rate = factories.rate(session, group, "62812", description="Telkomsel")
    contract = factories.contract(session, group, tax_rate="11")
    factories.cdr(session, contract, NOV, rate, cost="100")
    service.generate(session, 2025, 11, settings)
    november = _send(session, _invoice_of(session, contract.id))
    late = factories.cdr(session, contract, NOV + dt.timedelta(days=1), rate, cost="0.004")
    unanswered = factories.cdr(session, contract, NOV, rate, cost="0", billsec=0)
    return contract, rate, november, late, unanswered


def test_a_late_call_is_billed_once_on_the_next_invoice_in_a_section_of_its_own(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, november, late, unanswered = _november_sent_then_a_late_call(
        db_session, settings
    )
    december_call = factories.cdr(db_session, contract, DEC, rate, cost="200.004")

    summary = service.generate(db_session, 2025, 12, settings)

    december = _monthly(db_session, contract.id, DEC)
    assert (summary.late_calls_billed, summary.late_calls, summary.invoiced_calls) == (2, 0, 1)
    assert summary.late_calls_amounts == {"IDR": Decimal("0.004")}
    assert summary.late_calls_invoice_numbers == [december.invoice_number]
    assert _sections(db_session, december) == [
        (None, "Telkomsel", 1, Decimal("200.004")),
        (november.id, "Telkomsel", 1, Decimal("0.004")),
    ]
    # 200.004 + 0.004 = 200.008, rounded once: 200.01 (the sections rounded apart
    # would give 200.00 + 0.00); 11 % of 200.01 = 22.0011 -> 22.00
    assert (december.subtotal, december.tax, december.amount) == (
        Decimal("200.01"),
        Decimal("22.00"),
        Decimal("222.01"),
    )
    assert december.call_count == 2

    again = service.generate(db_session, 2025, 12, settings)  # a draft generated again
    assert (again.created, again.updated, again.late_calls_billed) == (0, 1, 2)
    assert _sections(db_session, _monthly(db_session, contract.id, DEC)) == _sections(
        db_session, december
    )
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 2

    _send(db_session, december)
    assert _linked(db_session, december) == sorted([december_call.id, late.id, unanswered.id])
    assert len(_linked(db_session, november)) == 1

    factories.cdr(db_session, contract, JAN, rate, cost="1")
    january = service.generate(db_session, 2026, 1, settings)
    assert (january.late_calls_billed, january.late_calls_invoice_numbers) == (0, [])
    assert [
        line.original_invoice_id
        for line in _lines(db_session, _monthly(db_session, contract.id, JAN))
    ] == [None]


def test_a_contract_with_only_late_calls_gets_a_draft_for_them(
    db_session: Session, settings: Settings
) -> None:
    contract, _, november, late, _ = _november_sent_then_a_late_call(db_session, settings)

    summary = service.generate(db_session, 2025, 12, settings)

    december = _monthly(db_session, contract.id, DEC)
    assert (summary.created, summary.invoiced_calls, summary.late_calls_billed) == (1, 0, 2)
    assert _sections(db_session, december) == [(november.id, "Telkomsel", 1, Decimal("0.004"))]
    assert (december.subtotal, december.amount) == (Decimal("0.00"), Decimal("0.00"))
    _send(db_session, december)
    assert late.id in _linked(db_session, december)


def test_a_call_of_a_month_whose_invoice_is_a_draft_goes_on_that_draft_not_the_next(
    db_session: Session, settings: Settings
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group)
    contract = factories.contract(db_session, group)
    factories.cdr(db_session, contract, NOV, rate, cost="100")
    service.generate(db_session, 2025, 11, settings)
    arrived = factories.cdr(db_session, contract, NOV, rate, cost="5")
    factories.cdr(db_session, contract, DEC, rate, cost="7")

    december = service.generate(db_session, 2025, 12, settings)
    november = service.generate(db_session, 2025, 11, settings)

    assert december.late_calls_billed == 0
    assert [
        line.original_invoice_id
        for line in _lines(db_session, _monthly(db_session, contract.id, DEC))
    ] == [None]
    assert _monthly(db_session, contract.id, NOV).subtotal == Decimal("105.00")
    assert november.late_calls_billed == 0
    _send(db_session, _monthly(db_session, contract.id, NOV))
    _send(db_session, _monthly(db_session, contract.id, DEC))
    assert arrived.id in _linked(db_session, _monthly(db_session, contract.id, NOV))


def test_a_late_call_arriving_after_the_next_draft_stops_its_sending_until_generated_again(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, _, _, _ = _november_sent_then_a_late_call(db_session, settings)
    service.generate(db_session, 2025, 12, settings)
    later = factories.cdr(db_session, contract, NOV, rate, cost="3")
    december = _monthly(db_session, contract.id, DEC)

    with pytest.raises(Conflict, match="invoices generate"), db_session.begin_nested():
        _send(db_session, december)
    db_session.expire_all()

    service.generate(db_session, 2025, 12, settings)
    _send(db_session, december)
    assert later.id in _linked(db_session, december)
    assert december.subtotal == Decimal("3.00")  # 3.004 rounded once


def test_late_calls_wait_while_the_months_invoice_and_the_next_are_both_sent(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, _, late, _ = _november_sent_then_a_late_call(db_session, settings)
    factories.cdr(db_session, contract, DEC, rate, cost="7")
    service.generate(db_session, 2025, 12, settings)
    december = _send(db_session, _monthly(db_session, contract.id, DEC))
    after_december = factories.cdr(db_session, contract, NOV, rate, cost="9")

    rerun = service.generate(db_session, 2025, 12, settings)
    assert (rerun.late_calls, rerun.late_calls_billed, rerun.kept) == (1, 0, 1)

    factories.cdr(db_session, contract, JAN, rate, cost="1")
    january = service.generate(db_session, 2026, 1, settings)
    assert january.late_calls_billed == 1
    assert late.id in _linked(db_session, december)
    _send(db_session, _monthly(db_session, contract.id, JAN))
    assert after_december.id in _linked(db_session, _monthly(db_session, contract.id, JAN))


def test_with_adjustments_a_late_call_is_billed_once_on_a_debit_note_of_its_month(
    db_session: Session, by_adjustment: Settings
) -> None:
    contract, rate, november, late, unanswered = _november_sent_then_a_late_call(
        db_session, by_adjustment
    )
    december_call = factories.cdr(db_session, contract, DEC, rate, cost="200.004")

    summary = service.generate(db_session, 2025, 12, by_adjustment)

    [adjustment] = _adjustments(db_session, contract.id)
    december = _monthly(db_session, contract.id, DEC)
    assert (summary.late_calls_billed, summary.late_calls, summary.created) == (2, 0, 2)
    assert summary.late_calls_invoice_numbers == [adjustment.invoice_number]
    assert summary.late_calls_amounts == {"IDR": Decimal("0.004")}
    assert (adjustment.original_invoice_id, adjustment.status) == (november.id, InvoiceStatus.DRAFT)
    assert (adjustment.period_start, adjustment.period_end) == (
        november.period_start,
        november.period_end,
    )
    assert (adjustment.invoice_date, adjustment.due_date) == (
        december.invoice_date,
        december.due_date,
    )
    assert _sections(db_session, adjustment) == [(november.id, "Telkomsel", 1, Decimal("0.004"))]
    assert (adjustment.subtotal, adjustment.tax, adjustment.amount) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert _sections(db_session, december) == [(None, "Telkomsel", 1, Decimal("200.004"))]
    assert december.subtotal == Decimal("200.00")

    again = service.generate(db_session, 2025, 12, by_adjustment)
    assert (again.created, again.updated, again.removed) == (0, 2, 0)
    assert [a.invoice_number for a in _adjustments(db_session, contract.id)] == [
        adjustment.invoice_number
    ]

    _send(db_session, december)
    assert _linked(db_session, december) == [december_call.id]
    _send(db_session, adjustment)
    assert _linked(db_session, adjustment) == sorted([late.id, unanswered.id])

    # a further late call of November: a second adjustment, the first is untouched
    another = factories.cdr(db_session, contract, NOV, rate, cost="50")
    service.generate(db_session, 2026, 1, by_adjustment)
    first, second = _adjustments(db_session, contract.id)
    assert (first.id, first.status, second.status) == (
        adjustment.id,
        InvoiceStatus.SENT,
        InvoiceStatus.DRAFT,
    )
    assert (second.original_invoice_id, second.subtotal, second.amount) == (
        november.id,
        Decimal("50.00"),
        Decimal("55.50"),
    )
    _send(db_session, second)
    assert _linked(db_session, second) == [another.id]
    nothing = service.generate(db_session, 2026, 1, by_adjustment)
    assert (nothing.late_calls_billed, len(_adjustments(db_session, contract.id))) == (0, 2)


def test_regenerating_the_sent_month_raises_its_adjustment(
    db_session: Session, by_adjustment: Settings
) -> None:
    contract, _, november, late, _ = _november_sent_then_a_late_call(db_session, by_adjustment)

    summary = service.generate(db_session, 2025, 11, by_adjustment)

    [adjustment] = _adjustments(db_session, contract.id)
    assert (summary.kept, summary.late_calls, summary.late_calls_billed) == (1, 0, 2)
    assert adjustment.original_invoice_id == november.id
    _send(db_session, adjustment)
    assert late.id in _linked(db_session, adjustment)


def test_the_setting_at_generation_decides_and_drafts_of_the_other_kind_go(
    db_session: Session, settings: Settings, by_adjustment: Settings
) -> None:
    contract, _, november, late, _ = _november_sent_then_a_late_call(db_session, by_adjustment)
    service.generate(db_session, 2025, 12, by_adjustment)
    [adjustment] = _adjustments(db_session, contract.id)

    switched = service.generate(db_session, 2025, 12, settings)

    assert (switched.removed, switched.late_calls_billed) == (1, 2)
    assert _adjustments(db_session, contract.id) == []
    december = _monthly(db_session, contract.id, DEC)
    assert [line.original_invoice_id for line in _lines(db_session, december)] == [november.id]

    service.generate(db_session, 2025, 12, by_adjustment)
    db_session.expire_all()
    [again] = _adjustments(db_session, contract.id)
    assert again.invoice_number != adjustment.invoice_number  # numbers are never reused
    assert db_session.get(Invoice, december.id) is None  # its only calls went to the note
    _send(db_session, again)
    assert late.id in _linked(db_session, again)


def test_a_late_call_on_two_months_drafts_goes_with_the_first_sent_only(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, _, late, unanswered = _november_sent_then_a_late_call(db_session, settings)
    factories.cdr(db_session, contract, DEC, rate, cost="7")
    factories.cdr(db_session, contract, JAN, rate, cost="1")
    service.generate(db_session, 2025, 12, settings)
    service.generate(db_session, 2026, 1, settings)
    december, january = (_monthly(db_session, contract.id, when) for when in (DEC, JAN))

    _send(db_session, january)
    with pytest.raises(Conflict, match="invoices generate"), db_session.begin_nested():
        _send(db_session, december)
    db_session.expire_all()

    assert {late.id, unanswered.id} <= set(_linked(db_session, january))
    again = service.generate(db_session, 2025, 12, settings)
    assert again.late_calls_billed == 0
    _send(db_session, december)
    assert late.id not in _linked(db_session, december)
    assert december.subtotal == Decimal("7.00")
