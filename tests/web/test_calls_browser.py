"""The calls pages, the dashboard and the portal in Chromium: the charts are drawn, the
search works by account and by reason (HTMX, the address bar kept), a call's page, the
CSV export of a search, another customer's call is a 404, a viewer is not offered what
it may not do; axe on each main page, and their screenshots."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.db import unit_of_work
from telecrm.rating.types import RatingStatus
from tests import factories
from tests.web.conftest import LiveServer, screenshot, serious_accessibility_violations

DAY = dt.datetime(2025, 11, 12, 3, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Traffic:
    accountcode: str
    other_accountcode: str
    rated: list[int]
    no_rate: int
    other_call: int


@pytest.fixture(scope="module")
def traffic(live_server: LiveServer) -> Traffic:
    """Two contracts' calls in November 2025, one of them not rated for want of a rate."""
    with Session(live_server.engine) as session, unit_of_work(session):
        group = factories.rate_group(session)
        rate = factories.rate(session, group, "62812", description="Telkomsel")
        mine = factories.contract(session, group, accountcode=factories.unique("BRW"))
        theirs = factories.contract(session, group, accountcode=factories.unique("BRX"))
        rated = [
            factories.cdr(
                session,
                mine,
                DAY + dt.timedelta(days=i % 5, minutes=i),
                rate,
                cost=str(1000 + 250 * i),
                billsec=30 + 17 * i,
                status="valid",
                cleaned_number=f"62812000{i:04d}",
            ).id
            for i in range(12)
        ]
        no_rate = factories.cdr(
            session,
            mine,
            DAY,
            status="valid",
            rating_status=RatingStatus.UNRATED,
            rating_reason="no_rate",
            contract_id=mine.id,
            dst="0999123",
        ).id
        other = factories.cdr(session, theirs, DAY, rate, cost="5", status="valid").id
        return Traffic(mine.accountcode, theirs.accountcode, rated, no_rate, other)


def _charts_drawn(page: Any, count: int) -> None:
    page.locator("canvas[data-drawn='true']").nth(count - 1).wait_for()
    assert page.locator("canvas[data-drawn='true']").count() == count


def test_the_dashboard_draws_its_charts(signed_in: Any, traffic: Traffic) -> None:
    page = signed_in(Role.BILLING)
    page.goto("/dashboard?month=2025-11")
    _charts_drawn(page, 4)
    assert page.get_by_role("heading", name="Top accounts").is_visible()
    assert page.get_by_role("link", name=traffic.accountcode).count() == 1
    attention = page.get_by_role("link", name="unrated: no rate")
    assert attention.is_visible()
    screenshot(page, "dashboard")
    assert serious_accessibility_violations(page) == []
    attention.click()
    page.wait_for_url("**/calls?rating_reason=no_rate*")
    assert page.locator(f"#results a[href='/calls/{traffic.no_rate}']").count() == 1


def test_calls_search_by_account_and_reason_a_call_and_the_export(
    signed_in: Any, traffic: Traffic, tmp_path: Any
) -> None:
    page = signed_in(Role.VIEWER)
    page.goto("/calls")
    page.get_by_label("Account code").fill(traffic.accountcode)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(f"**accountcode={traffic.accountcode}*")  # HTMX keeps the address
    rows = page.locator("#results tbody tr")
    rows.nth(12).wait_for()
    assert rows.count() == 13
    assert page.locator(f"#results a[href='/calls/{traffic.other_call}']").count() == 0
    screenshot(page, "calls")
    assert serious_accessibility_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Export this search as CSV").click()
    path = tmp_path / "calls.csv"
    download.value.save_as(path)
    with path.open(newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert {row["accountcode"] for row in exported} == {traffic.accountcode}
    assert sorted(int(row["id"]) for row in exported) == sorted([*traffic.rated, traffic.no_rate])

    page.get_by_label("Rating reason").select_option("no_rate")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**rating_reason=no_rate*")
    page.locator("#results tbody tr").first.wait_for()
    assert page.locator("#results tbody tr").count() == 1
    page.locator(f"#results a[href='/calls/{traffic.no_rate}']").click()
    page.wait_for_url(f"**/calls/{traffic.no_rate}")
    assert page.get_by_role("heading", name=f"Call {traffic.no_rate}").is_visible()
    assert page.get_by_text("no_rate", exact=True).is_visible()

    page.goto(f"/calls/{traffic.rated[3]}")
    rating = page.locator("table.fields").first.inner_text()
    for shown in ("628120000003", "62812 Telkomsel", "Billable seconds\t81", "1,750.00 IDR"):
        assert shown in rating, shown
    screenshot(page, "call")
    assert serious_accessibility_violations(page) == []


def test_a_customer_sees_its_usage_and_not_another_customers_call(
    signed_in: Any, traffic: Traffic
) -> None:
    page = signed_in(Role.CUSTOMER, traffic.accountcode)
    page.goto("/portal?month=2025-11")
    _charts_drawn(page, 3)
    assert page.get_by_role("table", name="Your top destinations by cost").is_visible()
    screenshot(page, "portal")
    assert serious_accessibility_violations(page) == []
    page.goto("/portal/calls")
    assert page.locator("#results tbody tr").count() == 13
    assert serious_accessibility_violations(page) == []
    response = page.goto(f"/portal/calls/{traffic.other_call}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert page.goto(f"/portal/calls/{traffic.rated[0]}").status == 200  # type: ignore[union-attr]


def test_a_viewer_sees_no_button_it_may_not_use(signed_in: Any, traffic: Traffic) -> None:
    page = signed_in(Role.VIEWER)
    page.goto("/dashboard?month=2025-11")
    assert page.get_by_role("heading", name="CRM sync").is_visible()
    assert page.get_by_role("link", name="Retry failed calls on the sync page").count() == 0
    assert page.get_by_role("heading", name="Last fetch runs").count() == 0
    page.goto("/calls/imports")
    assert page.get_by_role("link", name="Upload a CDR file").count() == 0
    assert page.get_by_role("heading", name="CDR imports").is_visible()
