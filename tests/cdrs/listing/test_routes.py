"""The CDR listing API: filters, keyset pagination, a customer's isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.invoices.models import InvoiceStatus
from telecrm.rating.types import RatingStatus
from tests import factories

T0 = dt.datetime(2025, 11, 5, 8, tzinfo=dt.UTC)


def test_pages_follow_start_time_then_id_newest_first_without_gaps_or_repeats(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract = factories.contract(db_session)
    # three calls share a start time: the id breaks the tie
    ids = [
        factories.cdr(db_session, contract, T0 + dt.timedelta(minutes=i // 3)).id for i in range(8)
    ]
    headers = auth_headers(Role.VIEWER)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, "accountcode": contract.accountcode} | (
            {"cursor": cursor} if cursor else {}
        )
        page = client.get("/api/cdrs", params=params, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted(ids, key=lambda i: (ids.index(i) // 3, i), reverse=True)
    assert seen == expected and pages == 3


def test_filters_narrow_the_list(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract, other = factories.contract(db_session), factories.contract(db_session)
    rated = factories.cdr(db_session, contract, T0, cost="10")
    unrated = factories.cdr(
        db_session,
        contract,
        T0 + dt.timedelta(days=1),
        rating_status=RatingStatus.UNRATED,
        rating_reason="no_rate",
    )
    late = factories.cdr(db_session, contract, T0 + dt.timedelta(days=30), cost="1")
    factories.cdr(db_session, other, T0, cost="5")
    headers = auth_headers(Role.BILLING)

    def ids(**params: object) -> list[int]:
        response = client.get(
            "/api/cdrs", params={"accountcode": contract.accountcode} | params, headers=headers
        )
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [late.id, unrated.id, rated.id]
    assert ids(rating_status="rated") == [late.id, rated.id]
    assert ids(rating_reason="no_rate") == [unrated.id]
    assert ids(start_from="2025-11-05T00:00:00Z", start_to="2025-11-06T08:00:00Z") == [rated.id]
    assert ids(start_from="2025-11-06") == [late.id, unrated.id]  # a date: billing time zone
    assert ids(contract_id=other.id) == []
    invalid = client.get("/api/cdrs", params={"cursor": "not-a-cursor"}, headers=headers)
    assert invalid.status_code == 422
    bad_reason = client.get("/api/cdrs", params={"rating_reason": "because"}, headers=headers)
    assert bad_reason.status_code == 422


def test_the_status_filter_follows_the_whole_lifecycle(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    """``status`` is seed 000's: validation's outcome, then what the rating says."""
    contract = factories.contract(db_session)
    valid = {"status": "valid"}
    calls = {
        "new": factories.cdr(db_session, contract, T0),
        "invalid": factories.cdr(
            db_session,
            contract,
            T0,
            status="invalid",
            validation_errors=["billsec_exceeds_duration"],
        ),
        "valid": factories.cdr(db_session, contract, T0, **valid),
        "rated": factories.cdr(db_session, contract, T0, cost="1", **valid),
        "unrated": factories.cdr(
            db_session, contract, T0, rating_status=RatingStatus.UNRATED, **valid
        ),
        "invoiced": factories.cdr(db_session, contract, T0, cost="2", **valid),
    }
    invoice = factories.invoice(db_session, contract, status=InvoiceStatus.SENT)
    factories.rate_cdr(db_session, calls["invoiced"], invoice_id=invoice.id)
    headers = auth_headers(Role.BILLING)

    def listed(**params: object) -> dict[int, str]:
        response = client.get(
            "/api/cdrs", params={"accountcode": contract.accountcode} | params, headers=headers
        )
        assert response.status_code == 200, response.text
        return {item["id"]: item["status"] for item in response.json()["items"]}

    assert listed() == {call.id: status for status, call in calls.items()}
    for status, call in calls.items():
        assert listed(status=status) == {call.id: status}
    # an invalid call is never pending: nothing rates it until it is corrected
    pending = {calls[name].id for name in ("new", "valid")}
    assert set(listed(rating_status="pending")) == pending
    invalid = client.get(f"/api/cdrs/{calls['invalid'].id}", headers=headers).json()
    assert (invalid["status"], invalid["rating_status"], invalid["validation_errors"]) == (
        "invalid",
        None,
        ["billsec_exceeds_duration"],
    )


def test_a_call_explains_its_cost(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    rate = factories.rate(db_session, rate_prefix="62812")
    call = factories.cdr(
        db_session,
        factories.contract(db_session),
        T0,
        rate,
        cost="2400.5",
        billsec=61,
        billable_seconds=120,
        cleaned_number="628123456789",
    )
    body = client.get(f"/api/cdrs/{call.id}", headers=auth_headers(Role.SALES)).json()
    assert Decimal(body["cost"]) == Decimal("2400.5")
    assert (body["matched_prefix"], body["rate_id"], body["billable_seconds"]) == (
        "62812",
        rate.id,
        120,
    )
    assert body["cleaned_number"] == "628123456789"


def test_a_customer_sees_only_its_own_calls(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    mine, theirs = factories.contract(db_session), factories.contract(db_session)
    my_call = factories.cdr(db_session, mine, T0, cost="1")
    their_call = factories.cdr(db_session, theirs, T0, cost="1")
    no_contract = factories.cdr(db_session, None, T0, accountcode="UNKNOWN")
    headers = factories.bearer(factories.customer(db_session, mine), settings)

    listed = client.get("/api/cdrs", headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [my_call.id]
    asked = client.get("/api/cdrs", params={"accountcode": theirs.accountcode}, headers=headers)
    assert asked.json()["items"] == []
    assert client.get(f"/api/cdrs/{my_call.id}", headers=headers).status_code == 200
    for other in (their_call, no_contract):
        assert client.get(f"/api/cdrs/{other.id}", headers=headers).status_code == 404

    unbound = factories.bearer(factories.user(db_session, role=Role.CUSTOMER), settings)
    assert client.get("/api/cdrs", headers=unbound).json()["items"] == []
    assert client.get(f"/api/cdrs/{no_contract.id}", headers=unbound).status_code == 404


def test_a_filter_on_the_rating_pages_in_the_same_order_with_the_same_cursor(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    """A reason, a contract or a rated/unrated status reads the ratings first: the pages
    still follow (start_time, id) newest first, without gaps or repeats."""
    contract = factories.contract(db_session)
    reason = {
        "rating_status": RatingStatus.UNRATED,
        "rating_reason": "no_rate",
        "contract_id": contract.id,
        "status": "valid",
    }
    ids = [
        factories.cdr(db_session, contract, T0 + dt.timedelta(minutes=i // 2), **reason).id
        for i in range(5)
    ]
    factories.cdr(db_session, contract, T0, cost="1")  # rated: not listed
    headers = auth_headers(Role.VIEWER)
    for params in (
        {"rating_reason": "no_rate", "contract_id": contract.id},
        {"status": "unrated", "accountcode": contract.accountcode},
    ):
        seen: list[int] = []
        cursor = None
        while True:
            page = client.get(
                "/api/cdrs",
                params=params | {"limit": 2} | ({"cursor": cursor} if cursor else {}),
                headers=headers,
            ).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, key=lambda i: (ids.index(i) // 2, i), reverse=True), params


def test_the_number_filter_finds_the_start_of_either_number_as_written(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    contract = factories.contract(db_session)
    dialled = factories.cdr(db_session, contract, T0, dst="0812555001")
    cleaned = factories.cdr(
        db_session, contract, T0, dst="0812555002", cost="1", cleaned_number="62812555002"
    )
    caller = factories.cdr(db_session, contract, T0, src="0812555003", dst="100")
    factories.cdr(db_session, contract, T0, dst="0813000000")
    wildcard = factories.cdr(db_session, contract, T0, dst="08_%99")
    headers = auth_headers(Role.BILLING)

    def ids(number: str) -> set[int]:
        params = {"accountcode": contract.accountcode, "number": number}
        return {
            item["id"]
            for item in client.get("/api/cdrs", params=params, headers=headers).json()["items"]
        }

    assert ids("0812555") == {dialled.id, cleaned.id, caller.id}
    assert ids("62812") == set()  # the cleaned number is not searched
    assert ids("08_%") == {wildcard.id}  # LIKE's wildcards are taken literally
