"""The month's reconciliation (revenue assurance): every call of the month in exactly
one bucket, per contract, and the rated money tied out to the invoices.

The database does the counting (``repository``: a few GROUP BY statements); this
module only lays out their rows, a handful per contract, and checks that:

- the buckets add up to the month's calls, counted on their own (a call joined
  twice, or to no bucket, would show here);
- per contract, the rated money equals the exact subtotals (the sums of their lines)
  of the month's invoices plus the money of the rated calls on no invoice. Where it
  does not, which invoice and by how much: a draft generated before calls were rated
  or rerated, or a sent invoice whose calls changed.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.orm import Session

from telecrm.config import Settings
from telecrm.errors import ValidationFailed
from telecrm.invoices.arithmetic import billing_month
from telecrm.invoices.models import InvoiceStatus
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
    "not_invoiced",
)
RATED_BUCKETS = frozenset({"on_draft", "on_invoice", "late", "not_invoiced"})
UNINVOICED_BUCKETS = frozenset({"late", "not_invoiced"})


def _bucket_of(group: CallGroup, invoices: list[InvoiceFigures]) -> str:
    if group.bucket == Bucket.INVOICED:
        return "on_invoice"
    if group.bucket != Bucket.RATED_OPEN:
        return group.bucket
    if any(invoice.status == InvoiceStatus.DRAFT for invoice in invoices):
        return "on_draft"
    # the month's invoice left the draft state before these calls were rated
    return "late" if invoices else "not_invoiced"


def _money(value: Decimal | None) -> str:
    return f"{value or 0:f}"


def _account(
    contract_id: int | None,
    accountcode: str,
    currency: str | None,
    groups: list[CallGroup],
    invoices: list[InvoiceFigures],
) -> AccountReconciliation:
    calls_of: dict[tuple[str, str | None], int] = defaultdict(int)
    money_of: dict[tuple[str, str | None], Decimal | None] = {}
    invalid_findings: dict[str, int] = defaultdict(int)
    rated_at_zero = 0
    for group in groups:
        bucket = _bucket_of(group, invoices)
        key = (bucket, group.reason)
        calls_of[key] += group.calls
        money = money_of.get(key)
        if group.money is not None:
            money = (money or Decimal(0)) + group.money
        money_of[key] = money
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
    invoiced_exact = sum((invoice.exact_subtotal for invoice in invoices), Decimal(0))
    problems = []
    for statuses, bucket, words in (
        ({InvoiceStatus.DRAFT}, "on_draft", "its month's rated calls on no invoice"),
        (
            set(InvoiceStatus) - {InvoiceStatus.DRAFT},
            "on_invoice",
            "the calls linked to it",
        ),
    ):
        chosen = [invoice for invoice in invoices if invoice.status in statuses]
        exact = sum((invoice.exact_subtotal for invoice in chosen), Decimal(0))
        _, money = total(frozenset({bucket}))
        if exact != money:
            names = ", ".join(f"{i.invoice_number} ({i.status.value})" for i in chosen) or "none"
            fix = (
                "generate the month's invoices again"
                if bucket == "on_draft"
                else "its calls changed after it was sent"
            )
            problems.append(
                f"{accountcode}: invoice {names} sums {_money(exact)} {currency} but "
                f"{words} sum {_money(money)}: {fix}"
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
                status=i.status,
                call_count=i.call_count,
                exact_subtotal=i.exact_subtotal,
                subtotal=i.subtotal,
                tax=i.tax,
                amount=i.amount,
            )
            for i in invoices
        ],
        invoiced_exact=invoiced_exact,
        uninvoiced_money=uninvoiced,
        ties_out=not problems and rated_money == invoiced_exact + uninvoiced,
        problems=problems,
    )


def reconcile(session: Session, year: int, month: int, settings: Settings) -> Reconciliation:
    """The reconciliation of ``month`` of ``year`` (its boundaries are midnight in the
    billing time zone, as its invoices')."""
    if not 1 <= month <= 12:
        raise ValidationFailed(f"month {month} is not between 1 and 12")
    start, end = billing_month(year, month, settings.tz)
    groups = repository.call_groups(session, start, end)
    invoices = repository.invoices(session, start)
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
            invoices_of.get(contract_id, []),
        )
        for contract_id in sorted(known, key=lambda c: known[c][0])
    ]
    no_contract = [
        _account(None, accountcode, None, by_account[accountcode], [])
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
