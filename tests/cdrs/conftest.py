"""Fixtures of the CDR domain's tests: the billing time zone of Jakarta, and a
contract's calls around one day of it (rated, exported)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.config import get_settings
from telecrm.rating.types import RateType
from tests import factories

WIB = dt.timezone(dt.timedelta(hours=7))  # Asia/Jakarta, no clock changes


@pytest.fixture()
def jakarta(committed_db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELECRM_TIMEZONE", "Asia/Jakarta")
    get_settings.cache_clear()


@pytest.fixture()
def calls(committed_db: Engine, jakarta: None) -> dict[str, int]:
    """One contract on a two-prefix rate group, and calls around 5 November (WIB)."""
    with Session(committed_db) as session, session.begin():
        group = factories.rate_group(session)
        factories.rate(session, group, "62", billing_rate="5000", billing_cycle=60)
        factories.rate(
            session, group, "62", "812", RateType.PER_SECOND, billing_rate="25", billing_cycle=1
        )
        contract = factories.contract(session, group, accountcode="ACME01")
        made = {
            # 00:30 WIB on the 5th is still the 4th in UTC
            "early": factories.cdr(
                session, contract, dt.datetime(2025, 11, 5, 0, 30, tzinfo=WIB), billsec=61
            ),
            "late": factories.cdr(
                session,
                contract,
                dt.datetime(2025, 11, 5, 23, 59, 59, tzinfo=WIB),
                dst="0215551234",
                billsec=30,
            ),
            "unanswered": factories.cdr(
                session,
                contract,
                dt.datetime(2025, 11, 5, 12, tzinfo=WIB),
                billsec=0,
                disposition="NO ANSWER",
            ),
            "internal": factories.cdr(
                session, contract, dt.datetime(2025, 11, 5, 12, 1, tzinfo=WIB), dst="1002"
            ),
            "stranger": factories.cdr(
                session, None, dt.datetime(2025, 11, 5, 12, 2, tzinfo=WIB), accountcode="WHO"
            ),
            "next_day": factories.cdr(
                session, contract, dt.datetime(2025, 11, 6, 0, 0, tzinfo=WIB), billsec=10
            ),
        }
        return {name: cdr.id for name, cdr in made.items()}
