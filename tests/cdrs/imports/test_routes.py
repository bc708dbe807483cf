"""``GET /api/cdrs/imports`` and ``GET /api/cdrs/rejects``: what an import did and the
rows it rejected, for the staff who follow billing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.cdrs.imports import service

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cdrs"


def test_imports_and_their_rejects(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    for name in ("Master-18.csv", "Master-16.csv"):
        list(service.import_file(db_session, FIXTURES / name, "asterisk-csv", "UTC", "pbx1", 100))
    headers = auth_headers(Role.BILLING)

    imports = client.get("/api/cdrs/imports", headers=headers)
    assert imports.status_code == 200, imports.text
    assert [
        (i["file_name"].rsplit("/", 1)[-1], i["imported"], i["rejected"]) for i in imports.json()
    ] == [
        ("Master-16.csv", 3, 0),
        ("Master-18.csv", 2, 1),
    ]
    first_import = imports.json()[1]["id"]

    rejects = client.get("/api/cdrs/rejects", params={"import_id": first_import}, headers=headers)
    assert rejects.status_code == 200, rejects.text
    [reject] = rejects.json()
    assert (reject["line_number"], reject["reason"], reject["source"]) == (
        3,
        "4 fields where 16 or 18 or 21 are expected",
        "pbx1",
    )
    assert reject["raw"] == '"ACME01","1003","0044207946000","from-internal"'
    none = client.get("/api/cdrs/rejects", params={"source": "other"}, headers=headers)
    assert none.json() == []


def test_a_customer_cannot_read_rejected_rows(
    client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    assert client.get("/api/cdrs/rejects", headers=auth_headers(Role.CUSTOMER)).status_code == 403
