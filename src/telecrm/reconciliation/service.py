"""The month's reconciliation (revenue assurance): every call of the month in exactly
one bucket, per contract, and the rated money tied out to the invoices.

The database does the counting (``repository``: a few GROUP BY statements); this
module only lays out their rows, a handful per contract, and checks that:

- the buckets add up to the month's calls, counted on their own (a call joined
  twice, or to no bucket, would show here);
- per contract, the rated money equals the exact sums of the invoices' lines of the
  month's calls plus the money of the rated calls on no invoice. Where it does not,
  which invoice and by how much: a draft generated before calls were rated or
  rerated, or a sent invoice whose calls changed.

A call of the month that arrived after the month's invoice was sent is billed later:
on the section of earlier periods of a later month's invoice, or on a debit note of
the month (an adjustment). It stays the month's call: its bucket says where it is
(``late``, ``on_later_draft``, ``on_later_invoice``), and the later invoice's lines
of the month's calls are reconciled here, its own month's lines in its own month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.errors import ValidationFailed
from telecrm.invoices.models import InvoiceKind, InvoiceStatus
from telecrm.rating.types import ACCOUNTCODE_BLANKS
from telecrm.reconciliation import repository
from telecrm.reconciliation.repository import Bucket, CallGroup, InvoiceFigures
from telecrm.reconciliation.schemas import (
    AccountReconciliation,
    BucketFigures,
    InvoiceFiguresRead,
    ReceivedRead,
    Reconciliation,
)

# The buckets in the order a report lists them: the way a call goes.
BUCKETS = (
    "new",
    "invalid",
    "pending",
    "unrated",
    "on_draft",
    "on_invoice",
    "late",
    "on_later_draft",
    "on_later_invoice",
    "not_invoiced",
)
RATED_BUCKETS = frozenset(
    {"on_draft", "on_invoice", "late", "on_later_draft", "on_later_invoice", "not_invoiced"}
)
UNINVOICED_BUCKETS = frozenset({"late", "not_invoiced"})


class _Invoices:
    """A contract's invoices with calls of the month: the month's monthly invoice,
    and those that bill its calls later (a later month's, a debit note)."""

    def __init__(self, invoices: list[InvoiceFigures], period_start: dt.datetime) -> None:
        self.all = invoices
        monthly = [
            i for i in invoices if i.kind == InvoiceKind.MONTHLY and i.period_start == period_start
        ]
        self.monthly = monthly[0] if monthly else None
        # the later drafts that bill calls of the month (their lines say so)
        self.later_drafts = [
            i
            for i in invoices
            if i is not self.monthly and i.status == InvoiceStatus.DRAFT and i.month_lines
        ]

    def bucket_of(self, group: CallGroup) -> str:
        monthly = self.monthly
        if group.bucket == Bucket.INVOICED:
            if monthly is not None and group.invoice_id == monthly.id:
                return "on_invoice"
            return "on_later_invoice"
        if group.bucket != Bucket.RATED_OPEN:
            return group.bucket
        if monthly is None:
            return "not_invoiced"
        if monthly.status == InvoiceStatus.DRAFT:
            return "on_draft"
        # the month's invoice left the draft state before these calls were rated
        return "on_later_draft" if self.later_drafts else "late"


def _money(value: Decimal | None) -> str:
    return f"{value or 0:f}"


def _month(invoice: InvoiceFigures, tz: ZoneInfo) -> str:
    local = invoice.period_start.astimezone(tz)
    return f"{local.year}-{local.month:02d}"


def _problems(
    accountcode: str,
    currency: str | None,
    invoices: _Invoices,
    money_of: dict[str, Decimal],
    linked: dict[int | None, Decimal],
    tz: ZoneInfo,
) -> list[str]:
    """Where the invoices' lines of the month's calls are not the calls they bill."""

    def named(chosen: list[InvoiceFigures]) -> str:
        return ", ".join(f"{i.invoice_number} ({i.status.value})" for i in chosen)

    def exact(chosen: list[InvoiceFigures]) -> Decimal:
        return sum((i.month_exact for i in chosen), Decimal(0))

    problems = []
    monthly = invoices.monthly
    drafts = [monthly] if monthly is not None and monthly.status == InvoiceStatus.DRAFT else []
    if exact(drafts) != money_of["on_draft"]:
        problems.append(
            f"{accountcode}: invoice {named(drafts) or 'none'} sums {_money(exact(drafts))} "
            f"{currency} but its month's rated calls on no invoice sum "
            f"{_money(money_of['on_draft'])}: generate the month's invoices again"
        )
    later = invoices.later_drafts
    if exact(later) != money_of["on_later_draft"]:
        fix = (
            f"generate the invoices of {_month(later[0], tz)} again"
            if len(later) == 1
            else "each bills them: send one, then generate the others' months again"
        )
        problems.append(
            f"{accountcode}: invoice {named(later) or 'none'} sums {_money(exact(later))} "
            f"{currency} of the month's calls but its late calls on no invoice sum "
            f"{_money(money_of['on_later_draft'])}: {fix}"
        )
    for invoice in invoices.all:
        if invoice.status == InvoiceStatus.DRAFT:
            continue
        calls = linked.get(invoice.id, Decimal(0))
        if invoice.month_exact != calls:
            words = "" if invoice is monthly else " of the month's calls"
            problems.append(
                f"{accountcode}: invoice {named([invoice])} sums {_money(invoice.month_exact)} "
                f"{currency}{words} but the calls linked to it sum {_money(calls)}: its "
                "calls changed after it was sent"
            )
    return problems


def _account(
    contract_id: int | None,
    accountcode: str,
    currency: str | None,
    groups: list[CallGroup],
    invoices: _Invoices,
    tz: ZoneInfo,
) -> AccountReconciliation:
    calls_of: dict[tuple[str, str | None], int] = defaultdict(int)
    money_of: dict[tuple[str, str | None], Decimal | None] = {}
    linked: dict[int | None, Decimal] = defaultdict(Decimal)
    invalid_findings: dict[str, int] = defaultdict(int)
    rated_at_zero = 0
    for group in groups:
        bucket = invoices.bucket_of(group)
        key = (bucket, group.reason)
        calls_of[key] += group.calls
        money = money_of.get(key)
        if group.money is not None:
            money = (money or Decimal(0)) + group.money
        money_of[key] = money
        if group.bucket == Bucket.INVOICED:
            linked[group.invoice_id] += group.money or Decimal(0)
        if bucket == "invalid":
            for finding, count in group.findings.items():
                invalid_findings[finding] += count
        if bucket in RATED_BUCKETS and group.zero_cost:
            rated_at_zero += group.calls
    buckets = [
        BucketFigures(bucket=bucket, reason=reason, calls=calls_of[bucket, reason], money=money)
        for (bucket, reason), money in sorted(
            money_of.items(), key=lambda item: (BUCKETS.index(item[0][0]), item[0][1] or "")
        )
    ]

    def total(names: frozenset[str]) -> tuple[int, Decimal]:
        chosen = [b for b in buckets if b.bucket in names]
        return sum(b.calls for b in chosen), sum(
            (b.money or Decimal(0) for b in chosen), Decimal(0)
        )

    rated_calls, rated_money = total(RATED_BUCKETS)
    _, uninvoiced = total(UNINVOICED_BUCKETS)
    invoiced_exact = sum((invoice.month_exact for invoice in invoices.all), Decimal(0))
    problems = _problems(
        accountcode,
        currency,
        invoices,
        {name: total(frozenset({name}))[1] for name in ("on_draft", "on_later_draft")},
        linked,
        tz,
    )
    return AccountReconciliation(
        contract_id=contract_id,
        accountcode=accountcode,
        currency=currency,
        calls=sum(b.calls for b in buckets),
        buckets=buckets,
        invalid_findings=dict(sorted(invalid_findings.items())),
        rated_calls=rated_calls,
        rated_at_zero=rated_at_zero,
        rated_money=rated_money,
        invoices=[
            InvoiceFiguresRead(
                invoice_number=i.invoice_number,
                kind=i.kind,
                month=_month(i, tz),
                status=i.status,
                call_count=i.call_count,
                exact_subtotal=i.exact_subtotal,
                month_exact=i.month_exact,
                subtotal=i.subtotal,
                tax=i.tax,
                amount=i.amount,
            )
            for i in invoices.all
        ],
        invoiced_exact=invoiced_exact,
        uninvoiced_money=uninvoiced,
        ties_out=not problems and rated_money == invoiced_exact + uninvoiced,
        problems=problems,
    )


def reconcile(session: Session, year: int, month: int, settings: Settings) -> Reconciliation:
    """The reconciliation of ``month`` of ``year`` (its boundaries are midnight in the
    billing time zone, as its invoices'); cached (``telecrm.cache``) until calls,
    ratings, invoices or contracts change."""
    if not 1 <= month <= 12:
        raise ValidationFailed(f"month {month} is not between 1 and 12")
    return cache.get_or_compute(
        settings,
        "reconciliation",
        {"year": year, "month": month, "timezone": settings.timezone},
        lambda: _reconcile(session, year, month, settings),
        Reconciliation,
        depends_on=(cache.CDRS, cache.RATINGS, cache.INVOICES, cache.CONTRACTS),
    )


def _reconcile(session: Session, year: int, month: int, settings: Settings) -> Reconciliation:
    start, end = billing_month(year, month, settings.tz)
    groups = repository.call_groups(session, start, end)
    holding = {group.invoice_id for group in groups if group.invoice_id is not None}
    invoices = repository.invoices(session, start, holding)
    calls = repository.call_count(session, start, end)

    # RATING.md §2: a call's contract is the one whose account code equals the call's
    # once both are trimmed; rating stops on two such contracts, and so does the
    # tie-out (their calls could be counted for either).
    known = {contract_id: (code, currency) for contract_id, code, currency in
             repository.contracts(session)}  # fmt: skip
    by_code: dict[str, list[int]] = defaultdict(list)
    for contract_id, (code, _) in known.items():
        by_code[code.strip(ACCOUNTCODE_BLANKS)].append(contract_id)
    problems = [
        f"contracts {', '.join(known[c][0] for c in ids)} have one account code once trimmed: "
        "their calls could be either's"
        for ids in by_code.values()
        if len(ids) > 1
    ]
    by_contract: dict[int, list[CallGroup]] = defaultdict(list)
    by_account: dict[str, list[CallGroup]] = defaultdict(list)
    for group in groups:
        code = group.accountcode.strip(ACCOUNTCODE_BLANKS)
        owner = group.contract_id
        if owner is None and len(by_code.get(code, ())) == 1:
            owner = by_code[code][0]
        if owner is not None:
            by_contract[owner].append(group)
        else:
            by_account[code].append(group)
    invoices_of: dict[int, list[InvoiceFigures]] = defaultdict(list)
    for invoice in invoices:
        invoices_of[invoice.contract_id].append(invoice)
    known = {c: known[c] for c in set(by_contract) | set(invoices_of)}

    contracts = [
        _account(
            contract_id,
            known[contract_id][0],
            known[contract_id][1],
            by_contract.get(contract_id, []),
            _Invoices(invoices_of.get(contract_id, []), start),
            settings.tz,
        )
        for contract_id in sorted(known, key=lambda c: known[c][0])
    ]
    no_contract = [
        _account(
            None, accountcode, None, by_account[accountcode], _Invoices([], start), settings.tz
        )
        for accountcode in sorted(by_account)
    ]
    bucketed = sum(account.calls for account in [*contracts, *no_contract])
    problems += [problem for account in contracts for problem in account.problems]
    if bucketed != calls:
        problems.insert(
            0,
            f"the buckets hold {bucketed} calls but the month has {calls}: a call is in "
            "several buckets (two contracts with one account code?) or in none",
        )
    return Reconciliation(
        year=year,
        month=month,
        period_start=start,
        period_end=end,
        calls=calls,
        bucketed_calls=bucketed,
        received=[
            ReceivedRead(**row._asdict()) for row in repository.received(session, start, end)
        ],
        contracts=contracts,
        no_contract=no_contract,
        ties_out=not problems and all(account.ties_out for account in contracts),
        problems=problems,
    )
