"""``telecrm crm ...`` end to end: real commits, the fake HubSpot, the CLI's output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account, Region
from telecrm.config import get_settings
from telecrm.deals.models import Deal
from telecrm.reports.models import AggregationKind, DealAggregation
from tests.conftest import CliResult
from tests.crm.fake_hubspot import FakeHubSpot

Cli = Callable[..., CliResult]


@pytest.fixture()
def crm_env(committed_db: Engine, hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch) -> None:
    """TELECRM_HUBSPOT_* pointing at the fake, with retries that do not wait."""
    monkeypatch.setenv("TELECRM_HUBSPOT_TOKEN", hubspot.token)
    monkeypatch.setenv("TELECRM_HUBSPOT_BASE_URL", hubspot.url)
    monkeypatch.setenv("TELECRM_HUBSPOT_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("TELECRM_HUBSPOT_MAX_ATTEMPTS", "2")
    get_settings.cache_clear()


@pytest.fixture()
def in_hubspot(hubspot: FakeHubSpot) -> Iterator[dict[str, str]]:
    company = hubspot.add(
        "companies",
        {
            "account_id": 7,
            "name": "PT Garuda Logistik",
            "industry": "Logistics",
            "annualrevenue": "900000",
            "region": "Asia",
        },
    )
    deal = hubspot.add(
        "deals",
        {
            "deal_id": 203,
            "dealname": "SIP trunk",
            "amount": "1000",
            "probability_of_closure": "50%",
            "dealstage": "contractsent",
            "createdate": "2024-02-29T23:30:00Z",
        },
        company=company,
    )
    hubspot.add(
        "contacts",
        {
            "contact_id": "C-1",
            "firstname": "Ayu",
            "lastname": "Lestari",
            "email": "ayu@example.com",
            "phone": "+62 21 5794 8000",
            "lead_source": "Email Campaign",
        },
        company=company,
    )
    yield {"company": company, "deal": deal}


def _deal(engine: Engine, deal_id: int) -> Deal:
    with Session(engine) as session:
        return session.scalars(select(Deal).where(Deal.deal_id == deal_id)).one()


def test_extract_saves_exports_aggregates_and_prints_the_counts(
    cli: Cli, crm_env: None, in_hubspot: dict[str, str], committed_db: Engine, tmp_path: Path
) -> None:
    result = cli("crm", "extract", "--output", str(tmp_path / "export"))
    assert result.exit_code == 0, result.output
    assert "CRM extract from HubSpot" in result.stdout
    assert (
        "│ deals    │ 1       │ 1   │ 0       │ 0         │ 0       │ 0        │" in result.stdout
    )
    assert "deal aggregations" in result.stdout
    for name in ("accounts", "contacts", "deals"):
        assert json.loads((tmp_path / "export" / f"{name}.json").read_text())
        assert (tmp_path / "export" / f"{name}.csv").exists()
    with Session(committed_db) as session:
        monthly = session.scalars(
            select(DealAggregation).where(
                DealAggregation.aggregation_type == AggregationKind.MONTHLY
            )
        ).one()
    assert (monthly.account_id, str(monthly.aggregation_date), monthly.deal_count) == (
        7,
        "2024-02-01",
        1,
    )
    again = cli("crm", "extract", "--output", str(tmp_path / "export"), "--domain", "deals")
    assert "│ deals  │ 1       │ 0   │ 0       │ 1         │" in again.stdout


def test_extract_needs_a_crm(cli: Cli, tmp_path: Path) -> None:
    result = cli("crm", "extract", "--output", str(tmp_path))
    assert result.exit_code == 1
    assert "no external CRM is configured: set TELECRM_HUBSPOT_TOKEN" in result.stderr


def test_update_casts_the_values_and_writes_the_crm_and_the_database(
    cli: Cli,
    crm_env: None,
    in_hubspot: dict[str, str],
    hubspot: FakeHubSpot,
    committed_db: Engine,
    tmp_path: Path,
) -> None:
    cli("crm", "extract", "--output", str(tmp_path))
    result = cli(
        "crm", "update", "--domain", "deals", "--key", "deal_id", "--value", "203",
        "--key-to-update", "deal_size", "--update-value", "24456",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "deals: 1 with deal_id = 203; deal_size set to '24456' on 1 in HubSpot" in result.stdout
    assert _deal(committed_db, 203).deal_size == Decimal("24456.00")
    assert hubspot.objects["deals"][in_hubspot["deal"]]["properties"]["amount"] == "24456.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--domain", "deals", "--key", "deal_id", "--value", "999"],
            "no deals with deal_id = 999",
        ),
        (
            ["--domain", "deals", "--key", "deal_number", "--value", "203"],
            "deals has no field 'deal_number'",
        ),
        (
            ["--domain", "deals", "--key", "deal_id", "--value", "two hundred"],
            "'two hundred' is not a valid deals.deal_id (deal_id is an integer)",
        ),
    ],
)
def test_update_explains_what_it_cannot_find(
    cli: Cli, args: list[str], message: str, committed_db: Engine
) -> None:
    with Session(committed_db) as session, session.begin():
        session.add(
            Account(
                account_id=1,
                account_name="A",
                industry="I",
                account_value=Decimal(1),
                region=Region.ASIA,
            )
        )
    result = cli("crm", "update", *args, "--key-to-update", "deal_size", "--update-value", "1")
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize(
    ("domain", "field", "value", "message"),
    [
        (
            "deals",
            "deal_size",
            "abc",
            "'abc' is not a valid deals.deal_size (deal_size is a decimal",
        ),
        ("deals", "deal_size", "1.005", "no more than 2 decimal places"),
        (
            "accounts",
            "region",
            "Mars",
            "region is one of 'North America', 'Europe', 'Asia'",
        ),
        ("accounts", "account_id", "8", "accounts.account_id cannot be updated"),
        ("accounts", "industry", "", "accounts.industry needs a value"),
        ("contacts", "phone", "12345", "'12345' is not a valid phone"),
        ("contacts", "last_contact_date", "31/12/2024", "is a date (YYYY-MM-DD)"),
    ],
)
def test_update_refuses_values_that_do_not_cast(
    cli: Cli, committed_db: Engine, domain: str, field: str, value: str, message: str
) -> None:
    key = {"deals": "deal_id", "accounts": "account_id", "contacts": "contact_id"}[domain]
    result = cli(
        "crm", "update", "--domain", domain, "--key", key, "--value", "1",
        "--key-to-update", field, "--update-value", value,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert message in result.stderr


def test_update_of_an_unknown_domain_is_a_usage_error(cli: Cli) -> None:
    result = cli(
        "crm", "update", "--domain", "leads", "--key", "id", "--value", "1",
        "--key-to-update", "x", "--update-value", "1",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "'leads' is not one of 'accounts', 'contacts', 'deals'" in result.output


def test_update_without_a_crm_changes_the_database_and_says_so(
    cli: Cli, committed_db: Engine
) -> None:
    with Session(committed_db) as session, session.begin():
        session.add(
            Account(
                account_id=3,
                account_name="A",
                industry="Retail",
                account_value=Decimal(1),
                region=Region.ASIA,
            )
        )
    result = cli(
        "crm", "update", "--domain", "accounts", "--key", "region", "--value", "Asia",
        "--key-to-update", "region", "--update-value", "Europe",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "in the database (no external CRM configured)" in result.stdout


def test_a_crm_failure_on_update_keeps_nothing_and_says_so(
    cli: Cli,
    crm_env: None,
    in_hubspot: dict[str, str],
    hubspot: FakeHubSpot,
    committed_db: Engine,
    tmp_path: Path,
) -> None:
    cli("crm", "extract", "--output", str(tmp_path))
    hubspot.fail(500, times=2, path_contains="batch/upsert")
    result = cli(
        "crm", "update", "--domain", "deals", "--key", "deal_id", "--value", "203",
        "--key-to-update", "deal_size", "--update-value", "5",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "HubSpot did not take the change to 1 deals, so nothing was saved here" in result.stderr
    assert _deal(committed_db, 203).deal_size == Decimal("1000.00")


def test_push_writes_the_pending_changes(
    cli: Cli,
    crm_env: None,
    in_hubspot: dict[str, str],
    hubspot: FakeHubSpot,
    committed_db: Engine,
    tmp_path: Path,
) -> None:
    cli("crm", "extract", "--output", str(tmp_path))
    with Session(committed_db) as session, session.begin():
        deal = session.scalars(select(Deal).where(Deal.deal_id == 203)).one()
        deal.deal_size = Decimal("77.00")
        deal.crm_sync_error = "2026-01-01 00:00:00 UTC: HubSpot answered 500"
    result = cli("crm", "push")
    assert result.exit_code == 0, result.output
    assert "deals: 1 pending written to HubSpot" in result.stdout
    assert hubspot.objects["deals"][in_hubspot["deal"]]["properties"]["amount"] == "77.00"
    assert _deal(committed_db, 203).crm_sync_error is None


def test_aggregate_prints_the_summary_of_the_kind(cli: Cli, committed_db: Engine) -> None:
    result = cli("crm", "aggregate", "--kind", "weekly")
    assert result.exit_code == 0, result.output
    assert "│ weekly │ 0               │ 0        │ 0     │ 0.00            │" in result.stdout
    assert cli("crm", "aggregate", "--kind", "yearly").exit_code == 2
