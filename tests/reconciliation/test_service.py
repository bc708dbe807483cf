"""The month's reconciliation: every call in exactly one bucket per contract, and the
rated money tied out to the invoices; checked on a month with every kind of call, and
on random months (hypothesis), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import EVERYTHING
from telecrm.invoices import service as invoices_service
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from telecrm.invoices.service import Transition
from telecrm.rates.models import Rate
from telecrm.rating.types import RatingStatus
from telecrm.reconciliation import service
from telecrm.reconciliation.schemas import AccountReconciliation, Reconciliation
from tests import factories

NOV = dt.datetime(2025, 11, 10, 9, tzinfo=dt.UTC)


def figures(account: AccountReconciliation) -> dict[tuple[str, str | None], tuple[int, Any]]:
    return {(b.bucket, b.reason): (b.calls, b.money) for b in account.buckets}


def by_code(result: Reconciliation) -> dict[str, AccountReconciliation]:
    return {a.accountcode: a for a in [*result.contracts, *result.no_contract]}


def rated(session: Session, contract: Contract, rate: Rate, cost: str, **fields: Any) -> None:
    factories.cdr(session, contract, NOV, rate, cost=cost, status="valid", **fields)


def unrated(session: Session, contract: Contract | None, reason: str, **fields: Any) -> None:
    factories.cdr(
        session,
        contract,
        NOV,
        status="valid",
        rating_status=RatingStatus.UNRATED,
        rating_reason=reason,
        **fields,
    )


def send(session: Session, contract: Contract) -> Invoice:
    invoice = session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).one()
    invoices_service.transition(session, EVERYTHING, invoice.id, Transition.SEND)
    return invoice


def test_every_kind_of_call_has_its_bucket_and_the_month_ties_out(
    db_session: Session, settings: Settings
) -> None:
    rate = factories.rate(db_session)
    drafted = factories.contract(db_session, accountcode="DRAFT01")
    sent = factories.contract(db_session, accountcode="SENT01")
    fresh = factories.contract(db_session, accountcode="FRESH01")
    rated(db_session, drafted, rate, "2400")
    rated(db_session, drafted, rate, "0", billsec=0)
    factories.cdr(
        db_session,
        drafted,
        NOV,
        status="invalid",
        validation_errors=["billsec_exceeds_duration", "src_not_a_number"],
    )
    factories.cdr(db_session, drafted, NOV)  # new: not validated yet
    factories.cdr(db_session, drafted, NOV, status="valid")  # pending
    unrated(db_session, drafted, "no_rate")
    unrated(db_session, drafted, "internal", dst="1002")
    rated(db_session, sent, rate, "1000.5")
    # another month's call is not this month's
    factories.cdr(
        db_session, drafted, dt.datetime(2025, 12, 1, tzinfo=dt.UTC), rate, cost="5", status="valid"
    )
    unrated(db_session, None, "no_contract", accountcode=" WHO ")
    factories.cdr(
        db_session, None, NOV, accountcode="WHO", status="invalid",
        validation_errors=["missing_disposition"],
    )  # fmt: skip
    invoices_service.generate(db_session, 2025, 11, settings)
    sent_invoice = send(db_session, sent)
    rated(db_session, sent, rate, "300")  # arrived after its invoice was sent
    rated(db_session, fresh, rate, "7.25")  # rated after the invoices were generated

    result = service.reconcile(db_session, 2025, 11, settings)

    accounts = by_code(result)
    assert figures(accounts["DRAFT01"]) == {
        ("new", None): (1, None),
        ("invalid", None): (1, None),
        ("pending", None): (1, None),
        ("unrated", "internal"): (1, None),
        ("unrated", "no_rate"): (1, None),
        ("on_draft", None): (2, Decimal("2400")),
    }
    assert accounts["DRAFT01"].invalid_findings == {
        "billsec_exceeds_duration": 1,
        "src_not_a_number": 1,
    }
    assert (accounts["DRAFT01"].rated_calls, accounts["DRAFT01"].rated_at_zero) == (2, 1)
    assert accounts["DRAFT01"].invoiced_exact == Decimal("2400")
    assert figures(accounts["SENT01"]) == {
        ("on_invoice", None): (1, Decimal("1000.5")),
        ("late", None): (1, Decimal("300")),
    }
    assert [i.invoice_number for i in accounts["SENT01"].invoices] == [sent_invoice.invoice_number]
    assert (
        accounts["SENT01"].rated_money,
        accounts["SENT01"].invoiced_exact,
        accounts["SENT01"].uninvoiced_money,
    ) == (Decimal("1300.5"), Decimal("1000.5"), Decimal("300"))
    assert figures(accounts["FRESH01"]) == {("not_invoiced", None): (1, Decimal("7.25"))}
    # calls of no contract: a bucket of their own, per account code (trimmed, as rating)
    assert [a.accountcode for a in result.no_contract] == ["WHO"]
    assert figures(accounts["WHO"]) == {
        ("invalid", None): (1, None),
        ("unrated", "no_contract"): (1, None),
    }
    assert accounts["WHO"].invalid_findings == {"missing_disposition": 1}
    assert (result.calls, result.bucketed_calls) == (12, 12)
    assert [(r.source, r.import_id, r.calls) for r in result.received] == [(None, None, 12)]
    assert result.ties_out and result.problems == []


def test_a_month_that_does_not_tie_out_says_where(db_session: Session, settings: Settings) -> None:
    rate = factories.rate(db_session)
    drafted = factories.contract(db_session, accountcode="DRAFT01")
    sent = factories.contract(db_session, accountcode="SENT01")
    rated(db_session, drafted, rate, "2400")
    rated(db_session, sent, rate, "100")
    invoices_service.generate(db_session, 2025, 11, settings)
    invoice = send(db_session, sent)
    draft = db_session.scalars(select(Invoice).where(Invoice.contract_id == drafted.id)).one()
    assert service.reconcile(db_session, 2025, 11, settings).ties_out

    rated(db_session, drafted, rate, "1.5")  # rated after its draft was generated
    [linked] = [c for c in factories_cdrs(db_session) if c.invoice_id == invoice.id]
    factories.rate_cdr(db_session, linked, cost=Decimal("99"))  # changed on a sent invoice

    result = service.reconcile(db_session, 2025, 11, settings)

    assert not result.ties_out
    assert [a.ties_out for a in result.contracts] == [False, False]
    assert result.problems == [
        f"DRAFT01: invoice {draft.invoice_number} (draft) sums 2400.000000 IDR but its "
        "month's rated calls on no invoice sum 2401.500000: generate the month's invoices again",
        f"SENT01: invoice {invoice.invoice_number} (sent) sums 100.000000 IDR but the calls "
        "linked to it sum 99.000000: its calls changed after it was sent",
    ]
    invoices_service.generate(db_session, 2025, 11, settings)
    assert [a.ties_out for a in service.reconcile(db_session, 2025, 11, settings).contracts] == [
        True,
        False,
    ]


def test_two_contracts_with_one_account_code_do_not_tie_out(
    db_session: Session, settings: Settings
) -> None:
    factories.contract(db_session, accountcode="ACME01")
    factories.contract(db_session, accountcode="ACME01 ")
    factories.cdr(db_session, None, NOV, accountcode="ACME01", status="valid")

    result = service.reconcile(db_session, 2025, 11, settings)

    assert not result.ties_out
    assert result.problems == [
        "contracts ACME01, ACME01  have one account code once trimmed: their calls could be "
        "either's"
    ]
    assert [a.accountcode for a in result.no_contract] == ["ACME01"]


def factories_cdrs(session: Session) -> list[Any]:
    from telecrm.cdrs.models import Cdr

    return list(session.scalars(select(Cdr)))


# --- calls that arrive after their month's invoice was sent ----------------------------

DEC = dt.datetime(2025, 12, 10, 9, tzinfo=dt.UTC)
JAN = dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC)


def monthly(session: Session, contract: Contract, start: dt.datetime) -> Invoice:
    return session.scalars(
        select(Invoice).where(
            Invoice.contract_id == contract.id,
            Invoice.kind == InvoiceKind.MONTHLY,
            Invoice.period_start <= start,
            Invoice.period_end > start,
        )
    ).one()


def invoice_rows(account: AccountReconciliation) -> list[tuple[str, str, str, Decimal, Decimal]]:
    return [
        (i.invoice_number, i.status.value, i.kind.value, i.exact_subtotal, i.month_exact)
        for i in account.invoices
    ]


def reconciled(
    session: Session, settings: Settings, month: int, year: int = 2025
) -> AccountReconciliation:
    """The month's reconciliation, which must tie out; its one contract's figures."""
    result = service.reconcile(session, year, month, settings)
    assert result.ties_out, result.problems
    assert result.problems == []
    [account] = result.contracts
    assert account.ties_out
    assert account.rated_money == account.invoiced_exact + account.uninvoiced_money
    return account


def _november_sent_then_a_late_call(
    session: Session, settings: Settings
) -> tuple[Contract, Rate, Invoice]:
    """November invoiced and sent with one call; a December call; then a November call
    arrives and is rated (2.5)."""
    rate = factories.rate(session)
    contract = factories.contract(session, accountcode="LATE01")
    rated(session, contract, rate, "100")
    factories.cdr(session, contract, DEC, rate, cost="7", status="valid")
    invoices_service.generate(session, 2025, 11, settings)
    november = send(session, contract)
    rated(session, contract, rate, "2.5")
    return contract, rate, november


def test_a_late_call_billed_on_the_next_invoice_is_counted_once_in_its_month(
    db_session: Session, settings: Settings
) -> None:
    contract, _, november = _november_sent_then_a_late_call(db_session, settings)
    nov = november.invoice_number

    # arrived: late (rated, on no invoice, its month's invoice sent)
    account = reconciled(db_session, settings, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("late", None): (1, Decimal("2.5")),
    }
    assert (account.invoiced_exact, account.uninvoiced_money) == (Decimal(100), Decimal("2.5"))
    assert figures(reconciled(db_session, settings, 12)) == {
        ("not_invoiced", None): (1, Decimal("7")),
    }

    # December's draft bills it in its section of earlier periods
    invoices_service.generate(db_session, 2025, 12, settings)
    december = monthly(db_session, contract, DEC)
    dec = december.invoice_number
    account = reconciled(db_session, settings, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("on_later_draft", None): (1, Decimal("2.5")),
    }
    assert invoice_rows(account) == [
        (nov, "sent", "monthly", Decimal(100), Decimal(100)),
        (dec, "draft", "monthly", Decimal("9.5"), Decimal("2.5")),
    ]
    assert (account.invoiced_exact, account.uninvoiced_money) == (Decimal("102.5"), Decimal(0))
    account = reconciled(db_session, settings, 12)
    assert figures(account) == {("on_draft", None): (1, Decimal("7"))}
    assert invoice_rows(account) == [(dec, "draft", "monthly", Decimal("9.5"), Decimal("7"))]
    assert account.invoiced_exact == Decimal(7)

    # December sent: the late call is linked to it
    invoices_service.transition(db_session, EVERYTHING, december.id, Transition.SEND)
    account = reconciled(db_session, settings, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("on_later_invoice", None): (1, Decimal("2.5")),
    }
    assert invoice_rows(account) == [
        (nov, "sent", "monthly", Decimal(100), Decimal(100)),
        (dec, "sent", "monthly", Decimal("9.5"), Decimal("2.5")),
    ]
    assert account.invoiced_exact == Decimal("102.5")
    account = reconciled(db_session, settings, 12)
    assert figures(account) == {("on_invoice", None): (1, Decimal("7"))}
    assert invoice_rows(account) == [(dec, "sent", "monthly", Decimal("9.5"), Decimal("7"))]
    assert account.calls == 1


def test_a_late_call_billed_on_a_debit_note_is_counted_once_in_its_month(
    db_session: Session, settings: Settings
) -> None:
    # months of midnight in Jakarta: 17:00 UTC the day before
    by_adjustment = settings.model_copy(
        update={"late_calls": "adjustment", "timezone": "Asia/Jakarta"}
    )
    contract, _, november = _november_sent_then_a_late_call(db_session, by_adjustment)
    nov = november.invoice_number
    account = reconciled(db_session, by_adjustment, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("late", None): (1, Decimal("2.5")),
    }

    invoices_service.generate(db_session, 2025, 12, by_adjustment)
    [note] = db_session.scalars(select(Invoice).where(Invoice.kind == InvoiceKind.ADJUSTMENT)).all()
    december = monthly(db_session, contract, DEC)
    account = reconciled(db_session, by_adjustment, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("on_later_draft", None): (1, Decimal("2.5")),
    }
    assert invoice_rows(account) == [
        (nov, "sent", "monthly", Decimal(100), Decimal(100)),
        (note.invoice_number, "draft", "adjustment", Decimal("2.5"), Decimal("2.5")),
    ]
    assert [i.month for i in account.invoices] == ["2025-11", "2025-11"]
    assert (account.invoiced_exact, account.uninvoiced_money) == (Decimal("102.5"), Decimal(0))
    account = reconciled(db_session, by_adjustment, 12)
    assert figures(account) == {("on_draft", None): (1, Decimal("7"))}
    assert invoice_rows(account) == [
        (december.invoice_number, "draft", "monthly", Decimal(7), Decimal(7))
    ]
    assert [i.month for i in account.invoices] == ["2025-12"]

    invoices_service.transition(db_session, EVERYTHING, note.id, Transition.SEND)
    account = reconciled(db_session, by_adjustment, 11)
    assert figures(account) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("on_later_invoice", None): (1, Decimal("2.5")),
    }
    assert invoice_rows(account) == [
        (nov, "sent", "monthly", Decimal(100), Decimal(100)),
        (note.invoice_number, "sent", "adjustment", Decimal("2.5"), Decimal("2.5")),
    ]
    invoices_service.transition(db_session, EVERYTHING, december.id, Transition.SEND)
    assert figures(reconciled(db_session, by_adjustment, 12)) == {
        ("on_invoice", None): (1, Decimal("7"))
    }
    assert figures(reconciled(db_session, by_adjustment, 11))[("on_later_invoice", None)] == (
        1,
        Decimal("2.5"),
    )


def test_a_later_invoice_that_does_not_hold_its_late_calls_is_named_in_their_month(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, _ = _november_sent_then_a_late_call(db_session, settings)
    invoices_service.generate(db_session, 2025, 12, settings)
    december = monthly(db_session, contract, DEC)
    dec = december.invoice_number
    rated(db_session, contract, rate, "0.25")  # arrived after December's draft

    result = service.reconcile(db_session, 2025, 11, settings)

    assert not result.ties_out
    assert figures(result.contracts[0])[("on_later_draft", None)] == (2, Decimal("2.75"))
    assert result.problems == [
        f"LATE01: invoice {dec} (draft) sums 2.500000 IDR of the month's calls but its "
        "late calls on no invoice sum 2.750000: generate the invoices of 2025-12 again"
    ]
    assert service.reconcile(db_session, 2025, 12, settings).ties_out

    invoices_service.generate(db_session, 2025, 12, settings)
    invoices_service.transition(db_session, EVERYTHING, december.id, Transition.SEND)
    assert figures(reconciled(db_session, settings, 11))[("on_later_invoice", None)] == (
        2,
        Decimal("2.75"),
    )
    # a late call changed on the sent December: November's reconciliation says so
    late = db_session.scalars(
        select(Cdr)
        .join(CdrRating, CdrRating.cdr_id == Cdr.id)
        .where(CdrRating.cost == Decimal("0.25"))
    ).one()
    factories.rate_cdr(db_session, late, cost=Decimal("0.5"))
    result = service.reconcile(db_session, 2025, 11, settings)
    assert result.problems == [
        f"LATE01: invoice {dec} (sent) sums 2.750000 IDR of the month's calls but the "
        "calls linked to it sum 3.000000: its calls changed after it was sent"
    ]
    assert service.reconcile(db_session, 2025, 12, settings).ties_out


def test_late_calls_on_two_later_drafts_do_not_tie_out_until_one_is_sent_and_the_other_redone(
    db_session: Session, settings: Settings
) -> None:
    contract, rate, _ = _november_sent_then_a_late_call(db_session, settings)
    factories.cdr(db_session, contract, JAN, rate, cost="1", status="valid")
    invoices_service.generate(db_session, 2025, 12, settings)
    invoices_service.generate(db_session, 2026, 1, settings)
    december, january = monthly(db_session, contract, DEC), monthly(db_session, contract, JAN)

    result = service.reconcile(db_session, 2025, 11, settings)

    assert figures(result.contracts[0])[("on_later_draft", None)] == (1, Decimal("2.5"))
    assert result.problems == [
        f"LATE01: invoice {december.invoice_number} (draft), {january.invoice_number} (draft) "
        "sums 5.000000 IDR of the month's calls but its late calls on no invoice sum "
        "2.500000: each bills them: send one, then generate the others' months again"
    ]

    invoices_service.transition(db_session, EVERYTHING, january.id, Transition.SEND)
    result = service.reconcile(db_session, 2025, 11, settings)
    assert figures(result.contracts[0])[("on_later_invoice", None)] == (1, Decimal("2.5"))
    assert result.problems == [
        f"LATE01: invoice {december.invoice_number} (draft) sums 2.500000 IDR of the month's "
        "calls but its late calls on no invoice sum 0.000000: generate the invoices of 2025-12 "
        "again"
    ]
    invoices_service.generate(db_session, 2025, 12, settings)
    assert figures(reconciled(db_session, settings, 11)) == {
        ("on_invoice", None): (1, Decimal("100")),
        ("on_later_invoice", None): (1, Decimal("2.5")),
    }
    assert reconciled(db_session, settings, 12).invoiced_exact == Decimal(7)
    assert service.reconcile(db_session, 2026, 1, settings).ties_out


# --- random months -------------------------------------------------------------------

KINDS = ("new", "invalid", "pending", "no_rate", "internal", "rated")
ACCOUNTS = ("C0", "C1", "C2", "NOBODY")
call_strategy = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(KINDS + ("rated",) * 3),  # rated calls are the most, as in a month
    st.integers(min_value=0, max_value=10**9),  # cost in micro-units
    st.integers(min_value=-1, max_value=30),  # day of November from 0; -1, 30: not November
    st.booleans(),  # rated after the invoices were generated (and sent)
    st.booleans(),  # that, and after December's invoices were sent too
)
Call = tuple[str, str, int, int, bool, bool]


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calls=st.lists(call_strategy, max_size=30),
    phases=st.tuples(*(st.sampled_from(("none", "draft", "sent")) for _ in range(3))),
    # a contract whose November is always sent, then has calls arrive late:
    # (cost in micro-units, day, after December's invoices were sent)
    late=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 29), st.booleans()), max_size=3),
    december=st.sampled_from(("none", "draft", "sent")),
    late_calls=st.sampled_from(("next_invoice", "adjustment")),
)
def test_random_months_partition_their_calls_and_tie_out(
    db_session: Session,
    settings: Settings,
    calls: list[Call],
    phases: tuple[str, str, str],
    late: list[tuple[int, int, bool]],
    december: str,
    late_calls: str,
) -> None:
    savepoint = db_session.begin_nested()
    try:
        _check_random_month(
            db_session,
            settings.model_copy(update={"late_calls": late_calls}),
            [*calls, ("LATE", "rated", 10**6, 5, False, False)],
            dict(zip(ACCOUNTS, phases, strict=False)) | {"LATE": "sent"},
            december,
            late,
        )
    finally:
        savepoint.rollback()


def _check_random_month(
    session: Session,
    settings: Settings,
    calls: list[Call],
    phase: dict[str, str],
    december: str,
    late: list[tuple[int, int, bool]],
) -> None:
    """November's calls, some rated after its invoices were generated and sent (late);
    then December generated (its drafts, or the debit notes, bill the late calls),
    and maybe sent, and more late calls after that. Both months must partition their
    calls and tie out; a late call is in November's buckets alone."""
    rate = factories.rate(session)
    contracts = {
        code: factories.contract(session, accountcode=factories.unique(code))
        for code in (*ACCOUNTS[:3], "LATE")
    }
    code_of = {code: c.accountcode for code, c in contracts.items()} | {"NOBODY": "NOBODY"}
    expected: dict[tuple[str, str, str | None], list[Any]] = {}
    later: list[tuple[str, int, dt.datetime, bool]] = [
        ("LATE", micro, NOV.replace(day=1) + dt.timedelta(days=day), after and december == "sent")
        for micro, day, after in late
    ]

    def add(account: str, kind: str, micro: int, start: dt.datetime) -> None:
        contract = contracts.get(account)
        fields: dict[str, Any] = {"accountcode": code_of[account]} if contract is None else {}
        if kind == "new":
            factories.cdr(session, contract, start, **fields)
        elif kind == "invalid":
            factories.cdr(
                session, contract, start, status="invalid",
                validation_errors=["missing_start_time"], **fields,
            )  # fmt: skip
        elif kind == "pending":
            factories.cdr(session, contract, start, status="valid", **fields)
        elif kind == "rated" and contract is not None:
            cost = Decimal(micro).scaleb(-6)
            factories.cdr(session, contract, start, rate, cost=cost, status="valid")
        else:
            reason = "no_contract" if contract is None else kind if kind != "rated" else "no_rate"
            factories.cdr(
                session, contract, start, status="valid", rating_status=RatingStatus.UNRATED,
                rating_reason=reason, **fields,
            )  # fmt: skip

    def expect(account: str, bucket: str, reason: str | None, money: Decimal | None) -> None:
        calls_money = expected.setdefault((code_of[account], bucket, reason), [0, None])
        calls_money[0] += 1
        if money is not None:
            calls_money[1] = (calls_money[1] or Decimal(0)) + money

    # Rated calls come before the invoices are generated, or after (and after the
    # sent ones were sent); a draft's contract has none after (they would make the
    # draft stale, which the other test covers), a contract with no invoice all after.
    invoiced_before: set[str] = set()
    for account, kind, micro, day, after, after_december in calls:
        start = NOV.replace(day=1) + dt.timedelta(days=day, hours=3)
        is_rated = kind == "rated" and account != "NOBODY"
        if is_rated:
            after = phase[account] == "none" or (after and phase[account] == "sent")
            if after:
                later.append((account, micro, start, after_december and december == "sent"))
                continue
            if 0 <= day < 30:
                invoiced_before.add(account)
                expect(account, "on_invoice" if phase[account] == "sent" else "on_draft", None,
                       Decimal(micro).scaleb(-6))  # fmt: skip
        add(account, kind, micro, start)
        if not 0 <= day < 30 or is_rated:
            continue
        reason = {"no_rate": "no_rate", "internal": "internal", "rated": "no_rate"}.get(kind)
        if account == "NOBODY" and reason:
            reason = "no_contract"
        expect(account, "unrated" if reason else kind, reason, None)
    invoices_service.generate(session, 2025, 11, settings)
    for account, contract in contracts.items():
        invoice = session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).first()
        if invoice is not None and phase[account] == "sent":
            invoices_service.transition(session, EVERYTHING, invoice.id, Transition.SEND)

    # A late call (its month's invoice sent) is on the draft that bills it once
    # December is generated, on that invoice once it is sent; one that arrives after
    # that is late again, until a further month bills it.
    late_bucket = {"none": "late", "draft": "on_later_draft", "sent": "on_later_invoice"}
    for account, micro, start, after_december in later:
        if after_december:
            continue
        add(account, "rated", micro, start)
        if start.month == 11:
            bucket = late_bucket[december] if account in invoiced_before else "not_invoiced"
            expect(account, bucket, None, Decimal(micro).scaleb(-6))
    if december != "none":
        invoices_service.generate(session, 2025, 12, settings)
    if december == "sent":
        december_start = billing_month(2025, 12, settings.tz)[0]
        drafts = session.scalars(
            select(Invoice.id).where(
                Invoice.status == InvoiceStatus.DRAFT,
                or_(Invoice.period_start == december_start, Invoice.kind == InvoiceKind.ADJUSTMENT),
            )
        ).all()
        for invoice_id in drafts:
            invoices_service.transition(session, EVERYTHING, invoice_id, Transition.SEND)
    for account, micro, start, after_december in later:
        if not after_december:
            continue
        add(account, "rated", micro, start)
        if start.month == 11:
            expect(account, "late" if account in invoiced_before else "not_invoiced", None,
                   Decimal(micro).scaleb(-6))  # fmt: skip

    result = service.reconcile(session, 2025, 11, settings)

    got = {
        (account.accountcode, b.bucket, b.reason): [b.calls, b.money]
        for account in [*result.contracts, *result.no_contract]
        for b in account.buckets
    }
    assert got == expected
    month_calls = sum(1 for call in calls if 0 <= call[3] < 30) + len(late)
    assert result.calls == result.bucketed_calls == month_calls
    for account in result.contracts:
        assert account.rated_money == account.invoiced_exact + account.uninvoiced_money
    assert result.ties_out, result.problems

    # December: its own calls (those of its first day here) alone, tied out likewise
    following = service.reconcile(session, 2025, 12, settings)
    december_calls = sum(1 for call in calls if call[3] == 30)
    assert following.calls == following.bucketed_calls == december_calls
    for account in following.contracts:
        assert account.rated_money == account.invoiced_exact + account.uninvoiced_money
    assert following.ties_out, following.problems
