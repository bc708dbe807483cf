"""The billing demo step: an operator's reference data, a month of calls imported,
rated and invoiced; the same data however often it runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.contracts.models import Contract
from telecrm.demo import billing, billing_data
from telecrm.invoices.models import Invoice
from telecrm.rates.models import Rate, RateGroup
from telecrm.rating.types import RateType, RatingStatus
from tests.conftest import CliResult


def _snapshot(engine: Engine) -> tuple[object, ...]:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(RateGroup)),
            session.scalar(select(func.count()).select_from(Rate)),
            session.scalar(select(func.count()).select_from(Contract)),
            session.scalar(select(func.count()).select_from(Cdr)),
            session.scalar(
                select(func.count()).where(CdrRating.rating_status == RatingStatus.RATED)
            ),
            sorted(session.execute(select(Invoice.invoice_number, Invoice.amount)).all()),
        )


def test_the_billing_demo_loads_once_and_invoices_every_contract(
    cli: Callable[..., CliResult], committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telecrm.cli import demo

    # A smaller month than the real demo's 100,000 calls: the same path, faster.
    monkeypatch.setattr(billing, "CALLS", 3_000)
    monkeypatch.setattr(demo, "STEPS", [("billing", billing.load)])
    first = cli("demo")
    assert first.exit_code == 0, first.output
    assert "demo invoices of" in first.stdout
    before = _snapshot(committed_db)
    second = cli("demo")
    assert second.exit_code == 0, second.output
    assert _snapshot(committed_db) == before

    groups, rates, contracts, calls, rated, invoices = before
    assert groups == len(billing_data.PRICE_LISTS)
    assert rates == groups * len(billing_data.destinations()) >= 2_000  # type: ignore[operator]
    assert (contracts, calls) == (billing.CONTRACTS, 3_000)
    assert rated > 2_800  # type: ignore[operator]  # all but internal and short-code calls
    assert len(invoices) == billing.CONTRACTS  # type: ignore[arg-type]
    with Session(committed_db) as session:
        types = set(session.scalars(select(Rate.rate_type).distinct()))
        cycles = set(session.scalars(select(Rate.billing_cycle).distinct()))
        linked = session.scalar(select(func.count()).where(CdrRating.invoice_id.is_not(None)))
        billed = session.scalar(select(func.sum(Invoice.call_count)))
        billable = session.scalar(
            select(func.count()).where(
                CdrRating.rating_status == RatingStatus.RATED,
                or_(CdrRating.billable_seconds > 0, CdrRating.cost > 0),
            )
        )
    assert types == set(RateType)
    assert {1, 6, 30, 60} <= cycles
    assert linked == 0  # drafts: calls are linked when an invoice is sent
    assert billed == billable  # every billable rated call is on a draft's figures
