"""Monthly invoices (RATING.md §5) and their status flow.

Generation is set-based: the database sums the month's rated calls that are on no
invoice per contract and destination (GROUP BY); Python only sees one row per
contract and destination, and no call is written. A draft is generated again in
place (it keeps its number). Sending a draft links its calls with one UPDATE, and
only if they are still the calls it was computed from; an invoice that left the
draft state is never touched again, nor are its calls.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.audit.service import record
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.clock import billing_month
from telecrm.config import Settings
from telecrm.contracts import repository as contracts_repository
from telecrm.contracts.models import Contract
from telecrm.contracts.scope import ContractScope
from telecrm.db import utcnow
from telecrm.errors import (
    ContractNotFound,
    InvoiceCallsChanged,
    InvoiceNotFound,
    InvoiceStatusConflict,
    ValidationFailed,
)
from telecrm.invoices import repository
from telecrm.invoices.arithmetic import (
    DestinationSummary,
    invoice_dates,
    invoice_lines,
    invoice_number,
    invoice_totals,
)
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from telecrm.invoices.schemas import GenerateSummary
from telecrm.money import CURRENCY_EXPONENTS
from telecrm.rating.types import RatingStatus

# --- the status flow -----------------------------------------------------------------


class Transition(enum.StrEnum):
    SEND = "send"
    REQUEST_PAYMENT = "request_payment"
    APPROVE = "approve"


@dataclass(frozen=True)
class _Step:
    source: InvoiceStatus
    target: InvoiceStatus
    stamp: str  # the invoice's column that records when it happened
    done: str  # how the reason for a refusal says it


STEPS: dict[Transition, _Step] = {
    Transition.SEND: _Step(InvoiceStatus.DRAFT, InvoiceStatus.SENT, "sent_at", "sent"),
    Transition.REQUEST_PAYMENT: _Step(
        InvoiceStatus.SENT,
        InvoiceStatus.PENDING_APPROVAL,
        "payment_requested_at",
        "submitted for payment approval",
    ),
    Transition.APPROVE: _Step(
        InvoiceStatus.PENDING_APPROVAL, InvoiceStatus.PAID, "paid_at", "approved as paid"
    ),
}


def refusal(status: InvoiceStatus, transition: Transition) -> str | None:
    """Why ``transition`` may not happen to an invoice in ``status``; ``None``: it may."""
    step = STEPS[transition]
    if status == step.source:
        return None
    return f"the invoice is {status.value}; only a {step.source.value} invoice can be {step.done}"


# --- reading -------------------------------------------------------------------------


def get_invoice(session: Session, scope: ContractScope, invoice_id: int) -> Invoice:
    """404 for an invoice the caller may not see, so that ids do not leak."""
    invoice = repository.get(session, invoice_id)
    if invoice is None or not scope.allows(invoice.contract_id):
        raise InvoiceNotFound(f"invoice {invoice_id} not found")
    return invoice


def get_invoice_by_number(session: Session, scope: ContractScope, number: str) -> Invoice:
    invoice = repository.get_by_number(session, number)
    if invoice is None or not scope.allows(invoice.contract_id):
        raise InvoiceNotFound(f"invoice {number} not found")
    return invoice


def invoice_with_lines(
    session: Session, scope: ContractScope, invoice_id: int
) -> tuple[Invoice, Sequence[InvoiceLine]]:
    invoice = get_invoice(session, scope, invoice_id)
    return invoice, repository.lines_of(session, invoice.id)


def list_invoices(
    session: Session,
    scope: ContractScope,
    tz: ZoneInfo,
    *,
    year: int | None = None,
    month: int | None = None,
    status: InvoiceStatus | None = None,
    contract_id: int | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Invoice]:
    if (year is None) != (month is None):
        raise ValidationFailed("give both the month and the year, or neither")
    period_start = billing_month(year, month, tz)[0] if year and month else None
    return repository.list_invoices(
        session,
        scope,
        period_start=period_start,
        status=status,
        contract_id=contract_id,
        after_id=after_id,
        limit=limit,
    )


def _pdf(session: Session, invoice: Invoice, settings: Settings) -> tuple[Invoice, bytes]:
    from telecrm.invoices.pdf import render_invoice  # fpdf: only when a PDF is made

    contract = contracts_repository.get(session, invoice.contract_id)
    if contract is None:  # the foreign key is RESTRICT: only a broken database gets here
        raise ContractNotFound(
            f"contract {invoice.contract_id} of invoice {invoice.invoice_number}"
        )
    lines = repository.lines_of(session, invoice.id)
    return invoice, render_invoice(invoice, lines, contract, settings)


def invoice_pdf(
    session: Session, scope: ContractScope, invoice_id: int, settings: Settings
) -> tuple[Invoice, bytes]:
    return _pdf(session, get_invoice(session, scope, invoice_id), settings)


def invoice_pdf_by_number(
    session: Session, scope: ContractScope, number: str, settings: Settings
) -> tuple[Invoice, bytes]:
    return _pdf(session, get_invoice_by_number(session, scope, number), settings)


# --- the status flow -------------------------------------------------------------------


def transition(
    session: Session, scope: ContractScope, invoice_id: int, step_name: Transition
) -> Invoice:
    """Move the invoice one step along draft -> sent -> pending_approval -> paid.

    The move is one conditional UPDATE (only if the invoice is still in the step's
    first status): of two requests at once, one moves it and the other is refused
    with the status it found, having done nothing. Only the winner links the calls,
    stamps the time and writes the audit entry (who, when, from, to)."""
    invoice = get_invoice(session, scope, invoice_id)
    step = STEPS[step_name]
    at = utcnow()
    if not repository.move(session, invoice.id, step.source, step.target, step.stamp, at):
        status = repository.status_of(session, invoice.id)
        if status is None:  # a draft removed by its month's generation meanwhile
            raise InvoiceNotFound(f"invoice {invoice_id} not found")
        raise InvoiceStatusConflict(
            f"invoice {invoice.invoice_number}: {refusal(status, step_name)}"
        )
    record(
        session,
        "update",
        Invoice.__tablename__,
        str(invoice.id),
        {"status": [step.source.value, step.target.value], step.stamp: [None, at.isoformat()]},
    )
    session.refresh(invoice)
    cache.invalidate_on_commit(session, cache.INVOICES)
    if step_name == Transition.SEND:
        _link_calls(session, invoice)
    return invoice


def _link_calls(session: Session, invoice: Invoice) -> None:
    """Put the draft's calls on it as it is sent. If they are no longer the calls
    its figures came from (rerated, imported late or found invalid since), refuse:
    the caller's transaction rolls back, so no call stays linked and the invoice
    stays a draft."""
    repository.link_calls(session, invoice)
    if not repository.linked_calls_match(session, invoice):
        raise InvoiceCallsChanged(
            f"invoice {invoice.invoice_number}: its calls changed since the draft was "
            "generated; run 'invoices generate' again for its month, then send it"
        )


# --- generation ------------------------------------------------------------------------


@dataclass
class _Bill:
    """One invoice's calls, from their destination sums: its own month's, and those
    of earlier periods (calls that arrived after their month's invoice was sent)."""

    destinations: list[DestinationSummary]
    call_count: int = 0
    cost_sum: Decimal = Decimal(0)
    late_calls: int = 0
    late_cost: Decimal = Decimal(0)

    def add(self, row: repository.DestinationSum | repository.LateSum) -> None:
        original_id, original_start = None, None
        if isinstance(row, repository.LateSum):
            original_id, original_start = row.original_invoice_id, row.original_period_start
            self.late_calls += row.call_count
            self.late_cost += row.amount
        self.call_count += row.call_count
        self.cost_sum += row.amount
        self.destinations.append(
            DestinationSummary(
                description=row.destination or "Other calls",
                prefix=row.first_prefix if row.first_prefix == row.last_prefix else None,
                call_count=row.call_count,
                billed_calls=row.billed_calls,
                billable_seconds=row.billable_seconds,
                amount=row.amount,
                original_invoice_id=original_id,
                original_period_start=original_start,
            )
        )


def _bills(
    rows: Sequence[repository.DestinationSum | repository.LateSum], key: str
) -> dict[int, _Bill]:
    """The rows summed into one bill per ``key`` (contract or original invoice)."""
    bills: dict[int, _Bill] = defaultdict(lambda: _Bill([]))
    for row in rows:
        bills[getattr(row, key)].add(row)
    return bills


def _fill(
    invoice: Invoice,
    contract: Contract,
    bill: _Bill,
    period: tuple[dt.datetime, dt.datetime],
    dates: tuple[dt.date, dt.date],
) -> list[DestinationSummary]:
    """Set the invoice's figures from the contract and its calls; return its lines.
    One subtotal over the calls of both sections, rounded once (RATING.md §5)."""
    lines = invoice_lines(bill.destinations)
    totals = invoice_totals(bill.cost_sum, contract.tax_rate, contract.currency)
    invoice.contract_id = contract.id
    invoice.accountcode = contract.accountcode
    invoice.period_start, invoice.period_end = period
    invoice.invoice_date, invoice.due_date = dates
    invoice.currency = contract.currency
    invoice.tax_rate = contract.tax_rate
    invoice.subtotal = totals.subtotal
    invoice.tax = totals.tax
    invoice.amount = totals.total
    invoice.call_count = sum(line.billed_calls for line in lines)
    invoice.status = InvoiceStatus.DRAFT
    return lines


def generate(session: Session, year: int, month: int, settings: Settings) -> GenerateSummary:
    """Draft invoices for every contract with rated calls in the month (its
    boundaries are midnight in the billing time zone), and for the calls that
    arrived after the invoice of their month was sent: on the contract's draft of
    this month (``late_calls=next_invoice``) or on an adjustment of that invoice."""
    tz = settings.tz
    period = billing_month(year, month, tz)
    period_start, period_end = period
    by_adjustment = settings.late_calls == "adjustment"
    last_number = repository.lock_sequence(session, year)

    existing = repository.period_invoices(session, period_start)
    drafts = {inv.contract_id: inv for inv in existing if inv.status == InvoiceStatus.DRAFT}
    kept = {inv.contract_id for inv in existing if inv.status != InvoiceStatus.DRAFT}
    bills = _bills(repository.destination_sums(session, period_start, period_end), "contract_id")
    # calls of this month that arrived after its invoice was sent: an adjustment
    # takes them now, the next month's invoice later
    waiting = sum(bills.pop(contract_id).call_count for contract_id in kept & bills.keys())
    adjustment_bills: dict[int, _Bill] = {}
    if by_adjustment:
        waiting = 0
        adjustment_bills = _bills(
            repository.late_destination_sums(session, period_end), "original_invoice_id"
        )
    else:
        for row in repository.late_destination_sums(session, period_start):
            if row.contract_id in kept:
                waiting += row.call_count
            else:
                bills[row.contract_id].add(row)
    originals = repository.by_ids(session, adjustment_bills.keys())

    contracts = contracts_repository.by_ids(
        session, {*bills, *(original.contract_id for original in originals.values())}
    )
    unknown = sorted(
        f"{c.accountcode} ({c.currency})"
        for c in contracts.values()
        if c.currency not in CURRENCY_EXPONENTS
    )
    if unknown:
        raise ValidationFailed(
            "contracts in a currency telecrm cannot round: " + ", ".join(unknown)
        )

    new: list[Invoice] = []

    def draft_or_new(draft: Invoice | None) -> Invoice:
        nonlocal last_number
        if draft is not None:
            return draft
        last_number += 1
        invoice = Invoice(
            invoice_number=invoice_number(settings.invoice_number_prefix, year, last_number)
        )
        new.append(invoice)
        return invoice

    filled: list[tuple[Invoice, _Bill, list[DestinationSummary]]] = []
    for contract_id in sorted(bills, key=lambda c: contracts[c].accountcode):
        contract = contracts[contract_id]
        invoice = draft_or_new(drafts.get(contract_id))
        invoice.kind = InvoiceKind.MONTHLY
        invoice.bills_earlier_periods = not by_adjustment
        dates = invoice_dates(period_end, tz, contract.payment_terms_days)
        bill = bills[contract_id]
        filled.append((invoice, bill, _fill(invoice, contract, bill, period, dates)))

    # An adjustment of the same invoice still in draft is generated again in place;
    # the drafts whose calls went elsewhere (another invoice, the other setting) go.
    stale = [draft for contract_id, draft in drafts.items() if contract_id not in bills]
    adjustment_drafts: dict[int, Invoice] = {}
    for draft in repository.draft_adjustments(session, period_end):
        original_id = draft.original_invoice_id
        if original_id in adjustment_bills and original_id not in adjustment_drafts:
            adjustment_drafts[original_id] = draft
        else:
            stale.append(draft)
    for original in sorted(originals.values(), key=lambda o: o.invoice_number):
        contract = contracts[original.contract_id]
        invoice = draft_or_new(adjustment_drafts.get(original.id))
        invoice.kind = InvoiceKind.ADJUSTMENT
        invoice.original_invoice_id = original.id
        invoice.bills_earlier_periods = False
        dates = invoice_dates(period_end, tz, contract.payment_terms_days)
        bill = adjustment_bills[original.id]
        original_period = (original.period_start, original.period_end)
        filled.append((invoice, bill, _fill(invoice, contract, bill, original_period, dates)))

    repository.add_all(session, new)
    repository.delete_invoices(session, stale)
    regenerated = [invoice for invoice, _, _ in filled if invoice not in new]
    repository.replace_lines(
        session,
        [invoice.id for invoice in regenerated],
        [
            {
                "invoice_id": invoice.id,
                "position": position,
                "description": line.description,
                "prefix": line.prefix,
                "call_count": line.billed_calls,
                "billable_seconds": line.billable_seconds,
                "amount": line.amount,
                "original_invoice_id": line.original_invoice_id,
            }
            for invoice, _, lines in filled
            for position, line in enumerate(lines, start=1)
        ],
    )
    repository.set_sequence(session, year, last_number)
    cache.invalidate_on_commit(session, cache.INVOICES)

    with_late = [(invoice, bill) for invoice, bill, _ in filled if bill.late_calls]
    late_amounts: dict[str, Decimal] = defaultdict(Decimal)
    for invoice, bill in with_late:
        late_amounts[invoice.currency] += bill.late_cost
    statuses = repository.rating_status_counts(session, period_start, period_end)
    summary = GenerateSummary(
        year=year,
        month=month,
        period_start=period_start,
        period_end=period_end,
        created=len(new),
        updated=len(regenerated),
        removed=len(stale),
        kept=len(kept),
        invoiced_calls=sum(bill.call_count - bill.late_calls for bill in bills.values()),
        late_calls=waiting,
        late_calls_billed=sum(bill.late_calls for _, bill in with_late),
        late_calls_invoice_numbers=[invoice.invoice_number for invoice, _ in with_late],
        late_calls_amounts=dict(sorted(late_amounts.items())),
        late_calls_on=settings.late_calls,
        unrated_calls=statuses.get(RatingStatus.UNRATED, 0),
        pending_calls=statuses.get(RatingStatus.PENDING, 0),
        invalid_calls=statuses.get(CdrState.INVALID, 0),
    )
    record(session, "generate", "invoices", f"{year}-{month:02d}", summary.model_dump(mode="json"))
    return summary
