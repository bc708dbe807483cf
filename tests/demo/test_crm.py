from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account
from telecrm.contacts.models import Contact
from telecrm.deals.models import Deal
from telecrm.reports.models import DealAggregation
from tests.conftest import CliResult


def _cells(output: str, first_cell: str) -> list[str]:
    """The cells of the table row starting with ``first_cell``."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{output}")


def test_the_demo_crm_loads_once_and_is_then_unchanged(
    cli: Callable[..., CliResult], committed_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telecrm.cli import demo
    from telecrm.demo import crm

    monkeypatch.setattr(demo, "STEPS", [("crm", crm.load)])
    first = cli("demo")
    assert first.exit_code == 0, first.output
    with Session(committed_db) as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Account, Contact, Deal, DealAggregation)
        }
        phones = session.scalars(select(Contact.phone)).all()
        first_deal, last_deal = session.execute(
            select(func.min(Deal.created_at), func.max(Deal.created_at))
        ).one()
    assert counts["accounts"] == 300
    assert counts["contacts"] > 600
    assert counts["deals"] > 1000
    assert counts["deal_aggregations"] > 0
    assert _cells(first.stdout, "accounts") == ["accounts", "300", "0", "0"]
    indonesian = [phone for phone in phones if phone.startswith("+62")]
    assert len(indonesian) > len(phones) / 2
    assert {phone[:3] for phone in phones} > {"+62", "+65", "+44"}
    assert all(phone.startswith("+") and phone[1:].isdigit() for phone in phones)
    assert 700 < (last_deal - first_deal).days < 731

    second = cli("demo")
    assert _cells(second.stdout, "accounts") == ["accounts", "0", "0", "300"]
    assert _cells(second.stdout, "deals") == ["deals", "0", "0", str(counts["deals"])]
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == counts["deals"]
