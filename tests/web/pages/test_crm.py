"""The CRM pages: lists with filters, sort and pages; bad filters by their field; the
deal aggregations chart fed by one sum per period; extract and push against the fake
HubSpot, and their results."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.deals.models import Deal, DealStage
from tests import factories
from tests.crm.fake_hubspot import FakeHubSpot
from tests.web.pages.conftest import PageClient


def test_deals_filter_sort_and_page(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    account = factories.account(db_session)
    sizes = ["300.00", "1200.50", "50.00"]
    for size in sizes:
        factories.deal(
            db_session, account, deal_size=Decimal(size), deal_stage=DealStage.NEGOTIATION
        )
    factories.deal(db_session, account, deal_stage=DealStage.CLOSED_LOST)
    client = signed_in_client(Role.VIEWER)
    page = client.get(
        "/crm/deals",
        params={
            "account_id": str(account.account_id),
            "deal_stage": "Negotiation",
            "sort": "-deal_size",
        },
    )
    assert page.status_code == 200
    shown = re.findall(r'<td class="num">([\d,.]+)</td>', page.text)
    assert shown == ["1,200.50", "300.00", "50.00"]
    assert 'aria-sort="descending"' in page.text
    assert "3 deals" in page.text
    assert "Extract" not in page.text  # a viewer may not extract (and no CRM here)
    bad = client.get("/crm/deals", params={"deal_stage": "Won-ish", "account_id": "x"})
    assert bad.status_code == 422
    assert 'id="deal_stage-error"' in bad.text and 'id="account_id-error"' in bad.text
    unknown_sort = client.get("/crm/deals", params={"sort": "colour"})
    assert unknown_sort.status_code == 422 and "unknown field" in unknown_sort.text


def test_accounts_and_contacts_list(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    account = factories.account(db_session, account_name="PT Pageview Tbk")
    factories.contact(db_session, account, first_name="Ayu", last_name="Pagetest")
    client = signed_in_client(Role.BILLING)
    accounts = client.get("/crm/accounts", params={"account_name": "PT Pageview Tbk"})
    assert "PT Pageview Tbk" in accounts.text and "250,000.00" in accounts.text
    contacts = client.get("/crm/contacts", params={"account_id": str(account.account_id)})
    assert "Pagetest" in contacts.text


def test_the_aggregations_chart_gets_one_point_a_period(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    account = factories.account(db_session)
    for day, size in [(3, "10"), (4, "2.25"), (28, "1")]:
        factories.deal(
            db_session,
            account,
            deal_size=Decimal(size),
            created_at=dt.datetime(2022, 2, day, tzinfo=dt.UTC),
        )
    sales = signed_in_client(Role.SALES)
    computed = sales.post_form("/crm/aggregations/compute")
    assert computed.status_code == 303
    page = sales.get(
        "/crm/aggregations",
        params={"kind": "monthly", "account_id": str(account.account_id)},
    ).text
    data = json.loads(re.search(r'id="deal-chart-data">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert data == {"labels": ["2022-02-01"], "totals": ["13.25"], "deals": [3]}
    assert '<th scope="row">2022-02-01</th><td class="num">13.25</td><td class="num">3</td>' in page
    viewer_page = signed_in_client(Role.VIEWER).get("/crm/aggregations").text
    assert "Recompute" not in viewer_page


def test_extract_and_push_show_what_they_did(
    app: FastAPI,
    crm_settings: Settings,
    hubspot: FakeHubSpot,
    signed_in_client: Callable[..., PageClient],
    db_session: Session,
) -> None:
    app.state.settings = crm_settings
    company = hubspot.add(
        "companies",
        {
            "account_id": 8801,
            "name": "PT Extract",
            "industry": "Retail",
            "annualrevenue": "10",
            "region": "Asia",
        },
    )
    hubspot.add(
        "deals",
        {
            "deal_id": 8802,
            "dealname": "Extracted deal",
            "amount": "99.00",
            "probability_of_closure": "10%",
            "dealstage": "appointmentscheduled",
            "createdate": "2024-05-06T07:08:09.123Z",
        },
        company=company,
    )
    hubspot.add("companies", {"account_id": 8803, "name": "No industry", "region": "Asia"})
    sales = signed_in_client(Role.SALES)
    listing = sales.get("/crm/deals").text
    assert "Extract deals from the CRM" in listing and "Push pending deals" in listing
    result = sales.post_form("/crm/extract", {"domain": "all"})
    assert result.status_code == 200, result.text
    rows = re.findall(
        r'<th scope="row"><a href="/crm/(\w+)">\w+</a></th>\s*((?:<td class="num">\d+</td>\s*)+)',
        result.text,
    )
    counts = {domain: re.findall(r">(\d+)<", cells) for domain, cells in rows}
    assert counts["accounts"] == ["2", "1", "0", "0", "0", "1"]
    assert counts["deals"] == ["1", "1", "0", "0", "0", "0"]
    assert "missing industry" in result.text
    assert "Deal aggregations recomputed" in result.text
    assert db_session.query(Deal).filter_by(deal_id=8802).one().deal_name == "Extracted deal"
    pushed = sales.post_form("/crm/push", {"domain": "deals"})
    assert pushed.status_code == 200
    assert re.search(r'<a href="/crm/deals">deals</a></th><td class="num">0</td>', pushed.text)


def test_extract_without_a_crm_is_a_readable_refusal(
    signed_in_client: Callable[..., PageClient],
) -> None:
    sales = signed_in_client(Role.SALES)
    assert "No external CRM is configured" in sales.get("/crm/accounts").text
    refused = sales.post_form("/crm/extract", {"domain": "all"})
    assert refused.status_code == 409
    assert "no external CRM is configured" in refused.text
