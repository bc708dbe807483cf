"""The rate group and rate API: CRUD, validation, the rate deck upload."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from tests import factories


def test_rate_groups_and_rates_crud(
    client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing = auth_headers(Role.BILLING)
    group = client.post("/api/rate-groups", json={"name": "Retail", "memo": "m"}, headers=billing)
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    rate = client.post(
        f"/api/rate-groups/{group_id}/rates",
        json={
            "rate_prefix": "62",
            "area_prefix": "812",
            "description": "Indonesia Mobile Telkomsel",
            "rate_type": "per_minute",
            "billing_rate": "0.05",
            "billing_cycle": 6,
            "initial_increment": 30,
            "effective_from": "2025-01-01T00:00:00+07:00",
        },
        headers=billing,
    )
    assert rate.status_code == 201, rate.text
    body = rate.json()
    assert body["destination_prefix"] == "62812"
    assert Decimal(body["billing_rate"]) == Decimal("0.05")  # exact: a string, not a float
    assert body["effective_from"] == "2024-12-31T17:00:00Z"

    listed = client.get(f"/api/rate-groups/{group_id}/rates?prefix=628", headers=billing).json()
    assert [r["id"] for r in listed] == [body["id"]]
    assert client.get(f"/api/rate-groups/{group_id}/rates?prefix=44", headers=billing).json() == []
    at_2024 = client.get(
        f"/api/rate-groups/{group_id}/rates",
        params={"active_at": "2024-06-01T00:00:00Z"},
        headers=billing,
    )
    assert at_2024.json() == []
    groups = client.get("/api/rate-groups", headers=auth_headers(Role.VIEWER)).json()
    assert [(g["name"], g["rate_count"]) for g in groups] == [("Retail", 1)]

    patched = client.patch(
        f"/api/rates/{body['id']}", json={"billing_rate": "0.06"}, headers=billing
    )
    assert Decimal(patched.json()["billing_rate"]) == Decimal("0.06")
    renamed = client.patch(
        f"/api/rate-groups/{group_id}", json={"name": "Retail IDR"}, headers=billing
    )
    assert renamed.json()["name"] == "Retail IDR"
    assert client.delete(f"/api/rates/{body['id']}", headers=billing).status_code == 204
    assert client.get(f"/api/rates/{body['id']}", headers=billing).status_code == 404
    assert client.delete(f"/api/rate-groups/{group_id}", headers=billing).status_code == 204
    assert client.get(f"/api/rate-groups/{group_id}", headers=billing).status_code == 404


def test_invalid_rates_are_refused_with_the_field(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    billing = auth_headers(Role.BILLING)
    base = {
        "rate_prefix": "62",
        "rate_type": "per_minute",
        "billing_rate": "1",
        "billing_cycle": 60,
    }
    for change, field in [
        ({"billing_cycle": 0}, "billing_cycle"),
        ({"rate_prefix": "+62"}, "rate_prefix"),
        ({"area_prefix": "8x"}, "area_prefix"),
        ({"billing_rate": "0.123456789"}, "billing_rate"),
        ({"rate_type": "per_hour"}, "rate_type"),
    ]:
        response = client.post(
            f"/api/rate-groups/{group.id}/rates", json=base | change, headers=billing
        )
        assert response.status_code == 422, change
        assert [problem["field"] for problem in response.json()["detail"]] == [field]


def test_an_overlapping_rate_is_a_conflict(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    factories.rate(db_session, group, "62")
    response = client.post(
        f"/api/rate-groups/{group.id}/rates",
        json={
            "rate_prefix": "62",
            "rate_type": "flat_rate",
            "billing_rate": "1",
            "billing_cycle": 1,
        },
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "rate_overlap"
    assert "overlaps" in response.json()["error"]


def test_a_rate_deck_upload_imports_all_rows_or_reports_the_bad_ones(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    billing = auth_headers(Role.BILLING)
    url = f"/api/rate-groups/{group.id}/rates/upload"
    good = (
        "\ufeffrate_prefix,area_prefix,description,rate_type,billing_rate,billing_cycle\n"
        "62,,Indonesia,per_minute,5000,60\n62,812,Telkomsel,per_second,25,1\n"
    )
    response = client.post(
        url, files={"file": ("deck.csv", good.encode(), "text/csv")}, headers=billing
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0}

    bad = (
        "rate_prefix,rate_type,billing_rate,billing_cycle\n63,per_minute,1,60\n64,per_minute,1,0\n"
    )
    response = client.post(
        url, files={"file": ("bad.csv", bad.encode(), "text/csv")}, headers=billing
    )
    assert response.status_code == 422
    assert [row["line"] for row in response.json()["detail"]] == [3]
    listed = client.get(f"/api/rate-groups/{group.id}/rates", headers=billing).json()
    assert sorted(r["destination_prefix"] for r in listed) == ["62", "62812"]  # no 63

    latin1 = "rate_prefix,rate_type,billing_rate,billing_cycle\n65,per_minute,1,60\nä,x"
    response = client.post(
        url, files={"file": ("x.csv", latin1.encode("latin-1"))}, headers=billing
    )
    assert response.status_code == 422
    assert (
        "x.csv is not UTF-8 text (invalid continuation byte: byte 0xe4)"
        in (response.json()["error"])
    )


def test_an_unknown_group_is_404(
    client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing = auth_headers(Role.BILLING)
    assert client.get("/api/rate-groups/999999/rates", headers=billing).status_code == 404
    assert client.get("/api/rate-groups/999999", headers=billing).status_code == 404


def test_the_prefix_filter_takes_like_wildcards_literally(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    mobile = factories.rate(db_session, group, "62", "812").id
    billing = auth_headers(Role.BILLING)

    def found(prefix: str) -> list[int]:
        response = client.get(
            f"/api/rate-groups/{group.id}/rates", params={"prefix": prefix}, headers=billing
        )
        assert response.status_code == 200, response.text
        return [rate["id"] for rate in response.json()]

    assert found("628") == [mobile]
    assert found("6_8") == []
    assert found("%") == []


def test_a_rate_deck_with_old_mac_line_endings_imports(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    """A bare carriage return ends a line, as in any CSV reader."""
    group = factories.rate_group(db_session)
    deck = (
        b"rate_prefix,rate_type,billing_rate,billing_cycle\r"
        b"62,per_minute,5000,60\r6281,per_second,25,1\r"
    )
    response = client.post(
        f"/api/rate-groups/{group.id}/rates/upload",
        files={"file": ("mac.csv", deck, "text/csv")},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0}


def test_a_rate_deck_the_csv_reader_refuses_is_422_naming_the_line(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    huge_description = "x" * 200_000  # beyond the csv module's field size limit
    deck = (
        "rate_prefix,description,rate_type,billing_rate,billing_cycle\n"
        "62,Indonesia,per_minute,5000,60\n"
        f"63,{huge_description},per_minute,5000,60\n"
    )
    response = client.post(
        f"/api/rate-groups/{group.id}/rates/upload",
        files={"file": ("huge.csv", deck.encode(), "text/csv")},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 422, response.text
    assert [row["line"] for row in response.json()["detail"]] == [3]
    assert "huge.csv line 3: field larger than field limit" in response.json()["error"]


def test_a_rate_deck_row_with_a_nul_character_is_refused_by_line(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    deck = (
        b"rate_prefix,description,rate_type,billing_rate,billing_cycle\n"
        b"62,Indonesia,per_minute,5000,60\n63,Nul\x00here,per_minute,5000,60\n"
    )
    response = client.post(
        f"/api/rate-groups/{group.id}/rates/upload",
        files={"file": ("nul.csv", deck, "text/csv")},
        headers=auth_headers(Role.BILLING),
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == [{"line": 3, "message": "contains a NUL character"}]


def test_a_group_whose_rates_rated_calls_stays_after_its_contracts_moved(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62")
    moved = factories.contract(db_session, factories.rate_group(db_session))
    factories.cdr(db_session, moved, rate_obj=rate, cost="1000")
    billing = auth_headers(Role.BILLING)
    response = client.delete(f"/api/rate-groups/{group.id}", headers=billing)
    assert response.status_code == 409
    assert response.json()["code"] == "rate_group_rates_used"
    assert response.json()["error"] == (
        f"rates of rate group {group.id} rated calls; they must stay"
    )
    response = client.delete(f"/api/rates/{rate.id}", headers=billing)
    assert response.status_code == 409
    assert response.json()["code"] == "rate_in_use"
    assert response.json()["error"] == (
        f"rate {rate.id} has rated calls and must stay; end it with effective_to"
    )


def test_a_rate_group_is_read_with_its_numbers_of_rates_and_contracts(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    used, unused = factories.rate_group(db_session), factories.rate_group(db_session)
    for prefix in ("62", "63", "64"):
        factories.rate(db_session, used, prefix)
    factories.contract(db_session, used)
    factories.contract(db_session, used)
    viewer = auth_headers(Role.VIEWER)
    listed = {
        group["id"]: (group["rate_count"], group["contract_count"])
        for group in client.get("/api/rate-groups", headers=viewer).json()
    }
    assert (listed[used.id], listed[unused.id]) == ((3, 2), (0, 0))
    one = client.get(f"/api/rate-groups/{used.id}", headers=viewer).json()
    assert (one["rate_count"], one["contract_count"]) == (3, 2)
