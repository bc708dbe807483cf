"""The calls pages, the dashboard and the portal in process (the browser tests are in
test_calls_browser.py): what each shows, the search's fields and pages, the export of
a search, a customer kept to its own contract, and what a viewer is not offered."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role, User
from telecrm.cdrs.models import CdrImport, CdrReject
from telecrm.config import Settings
from telecrm.rating.types import RatingStatus
from telecrm.web.pages import calls as calls_pages
from telecrm.web.session import SESSION_COOKIE
from tests import factories

T0 = dt.datetime(2025, 11, 5, 8, tzinfo=dt.UTC)
Client = Callable[[User], TestClient]


@pytest.fixture()
def as_user(app: FastAPI, settings: Settings) -> Client:
    def make(user: User) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.cookies.set(SESSION_COOKIE, factories.bearer(user, settings)["Authorization"][7:])
        return client

    return make


def _ids(html: str, base: str = "/calls") -> list[int]:
    return [int(i) for i in re.findall(rf'<a href="{base}/(\d+)">', html)]


def test_the_search_pages_newest_first_and_keeps_its_filters(
    db_session: Session, as_user: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls_pages, "PAGE_SIZE", 2)
    contract = factories.contract(db_session)
    ids = [factories.cdr(db_session, contract, T0 + dt.timedelta(hours=i)).id for i in range(3)]
    factories.cdr(db_session, factories.contract(db_session), T0)
    client = as_user(factories.user(db_session, role=Role.VIEWER))

    first = client.get("/calls", params={"accountcode": contract.accountcode})
    assert first.status_code == 200
    assert _ids(first.text) == [ids[2], ids[1]]
    older = re.search(r'href="/calls\?([^"]+)" rel="next"', first.text)
    assert older is not None
    query = older.group(1).replace("&amp;", "&")
    assert f"accountcode={contract.accountcode}" in query and "cursor=" in query
    second = client.get(f"/calls?{query}")
    assert _ids(second.text) == [ids[0]]
    assert 'rel="next"' not in second.text


def test_the_search_by_reason_day_and_status(db_session: Session, as_user: Client) -> None:
    contract = factories.contract(db_session)
    rated = factories.cdr(db_session, contract, T0, cost="10", status="valid")
    no_rate = factories.cdr(
        db_session,
        contract,
        T0 + dt.timedelta(days=1),
        status="valid",
        rating_status=RatingStatus.UNRATED,
        rating_reason="no_rate",
    )
    invalid = factories.cdr(
        db_session, contract, T0, status="invalid", validation_errors=["unknown_disposition"]
    )
    client = as_user(factories.user(db_session, role=Role.BILLING))
    account = {"accountcode": contract.accountcode}

    assert _ids(client.get("/calls", params=account | {"rating_reason": "no_rate"}).text) == [
        no_rate.id
    ]
    assert _ids(client.get("/calls", params=account | {"status": "invalid"}).text) == [invalid.id]
    day = {"start_from": "2025-11-05", "start_to": "2025-11-05"}  # one day, included (UTC here)
    assert sorted(_ids(client.get("/calls", params=account | day).text)) == sorted(
        [rated.id, invalid.id]
    )


def test_a_bad_field_is_shown_next_to_it(db_session: Session, as_user: Client) -> None:
    client = as_user(factories.user(db_session, role=Role.VIEWER))
    response = client.get(
        "/calls", params={"start_from": "5 Nov", "number": "abc", "status": "lost"}
    )
    assert response.status_code == 422
    assert 'id="start_from-error">a day, as YYYY-MM-DD<' in response.text
    assert 'id="number-error">digits only' in response.text
    assert 'id="status-error">one of new, valid' in response.text
    assert 'aria-describedby="number-error"' in response.text
    backwards = client.get("/calls", params={"start_from": "2025-11-05", "start_to": "2025-11-01"})
    assert 'id="start_to-error">the last day comes before the first<' in backwards.text
    assert client.get("/calls", params={"cursor": "nonsense"}).status_code == 422


def test_a_call_page_explains_its_cost_and_findings(db_session: Session, as_user: Client) -> None:
    rate = factories.rate(db_session, rate_prefix="62812", description="Telkomsel")
    contract = factories.contract(db_session, currency="IDR")
    call = factories.cdr(
        db_session,
        contract,
        T0,
        rate,
        cost="2400.5",
        billsec=61,
        billable_seconds=120,
        cleaned_number="628123456789",
        status="valid",
        validation_errors=["src_not_a_number"],
    )
    page = as_user(factories.user(db_session, role=Role.SALES)).get(f"/calls/{call.id}")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    for shown in (
        "628123456789",
        "<td>62812</td>",
        "62812 Telkomsel",
        "<td>120</td>",
        "2,400.50 IDR",  # in the currency's minor units
        "exactly 2,400.5",
        "src_not_a_number",
        "the call is still billed",
        "08123456789",
    ):
        assert shown in text, shown
    assert (
        as_user(factories.user(db_session, role=Role.SALES)).get("/calls/999999999").status_code
        == 404
    )


def test_the_export_is_the_search_every_page_of_it(
    db_session: Session, as_user: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls_pages, "PAGE_SIZE", 1)
    contract = factories.contract(db_session)
    mine = [
        factories.cdr(db_session, contract, T0 + dt.timedelta(minutes=i), cost="1")
        for i in range(3)
    ]
    factories.cdr(db_session, factories.contract(db_session), T0, cost="1")
    client = as_user(factories.user(db_session, role=Role.VIEWER))
    response = client.get("/calls/export.csv", params={"accountcode": contract.accountcode})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["id"]) for row in rows] == [call.id for call in reversed(mine)]
    assert {row["accountcode"] for row in rows} == {contract.accountcode}
    assert response.headers["X-Row-Count"] == "3"


def test_imports_show_their_rejected_rows(db_session: Session, as_user: Client) -> None:
    record = CdrImport(
        format="asterisk-csv", file_name="Master-bad.csv", timezone="UTC", rejected=1, status="done"
    )
    db_session.add(record)
    db_session.flush()
    db_session.add(
        CdrReject(import_id=record.id, line_number=7, reason="start: not a time", raw="a,b,c")
    )
    db_session.flush()
    client = as_user(factories.user(db_session, role=Role.BILLING))
    listing = client.get("/calls/imports")
    assert f'href="/calls/imports/{record.id}"' in listing.text and "Master-bad.csv" in listing.text
    page = client.get(f"/calls/imports/{record.id}")
    assert "start: not a time" in page.text and "<code>a,b,c</code>" in page.text
    assert client.get("/calls/imports/999999").status_code == 404


def test_a_customer_sees_only_its_own_calls(db_session: Session, as_user: Client) -> None:
    mine, theirs = factories.contract(db_session), factories.contract(db_session)
    my_call = factories.cdr(db_session, mine, T0, cost="1")
    their_call = factories.cdr(db_session, theirs, T0, cost="1")
    client = as_user(factories.customer(db_session, mine))

    listed = client.get("/portal/calls", params={"accountcode": theirs.accountcode})
    assert _ids(listed.text, "/portal/calls") == [my_call.id]  # the account field is ignored
    assert client.get(f"/portal/calls/{my_call.id}").status_code == 200
    refused = client.get(f"/portal/calls/{their_call.id}")
    assert refused.status_code == 404 and "not found" in refused.text
    export = client.get("/portal/calls/export.csv")
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(export.text))] == [my_call.id]
    overview = client.get("/portal", params={"month": "2025-11"})
    assert overview.status_code == 200 and 'data-chart="destinations"' in overview.text
    assert "Cost IDR" in overview.text and "Revenue" not in overview.text
    assert client.get("/portal", params={"month": "11/2025"}).status_code == 422


def test_the_dashboard_links_the_calls_that_need_attention(
    db_session: Session, as_user: Client
) -> None:
    contract = factories.contract(db_session)
    factories.cdr(db_session, contract, T0, cost="10", status="valid")
    factories.cdr(
        db_session,
        None,
        T0,
        accountcode="NOBODY",
        status="valid",
        rating_status=RatingStatus.UNRATED,
        rating_reason="no_contract",
    )
    page = as_user(factories.user(db_session, role=Role.BILLING)).get(
        "/dashboard", params={"month": "2025-11"}
    )
    assert page.status_code == 200
    assert (
        'href="/calls?rating_reason=no_contract&amp;start_from=2025-11-01&amp;start_to=2025-11-30"'
        in page.text
    )
    for chart in ("calls-per-day", "minutes-per-day", "revenue-per-day", "quality-per-day"):
        assert f'data-chart="{chart}"' in page.text
    assert "Last fetch runs" in page.text


def test_a_viewer_is_not_offered_what_it_may_not_do(db_session: Session, as_user: Client) -> None:
    billing = as_user(factories.user(db_session, role=Role.BILLING)).get("/dashboard")
    viewer = as_user(factories.user(db_session, role=Role.VIEWER)).get("/dashboard")
    assert "Retry failed calls" in billing.text
    assert "Retry failed calls" not in viewer.text
    assert "Last fetch runs" not in viewer.text  # the runs' API is billing's
    sales = as_user(factories.user(db_session, role=Role.SALES)).get("/calls")
    assert 'href="/calls/imports"' not in sales.text  # imports are billing's and viewers'
