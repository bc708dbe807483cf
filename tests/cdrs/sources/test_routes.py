from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm import crypto
from telecrm.audit.models import AuditEntry
from telecrm.auth.models import Role
from telecrm.cdrs.models import Cdr
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource
from telecrm.config import Settings
from tests import factories
from tests.loopback import dropping_server, webhook_receiver

DB_SOURCE = {
    "name": "pbx-jakarta-db",
    "type": "asterisk_db",
    "params": {
        "dialect": "postgresql",
        "host": "10.0.0.5",
        "database": "asterisk",
        "username": "telecrm",
        "timezone": "Asia/Jakarta",
    },
    "password": "s3cret-pbx-password",
}


def test_a_source_password_is_stored_encrypted_and_never_returned(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    admin = auth_headers(Role.ADMIN)
    response = client.post("/api/cdr-sources", json=DB_SOURCE, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["has_password"] is True
    assert created["params"] == DB_SOURCE["params"] | {"table": "cdr", "sslmode": "prefer"}
    for answer in (
        response.text,
        client.get("/api/cdr-sources", headers=admin).text,
        client.get(f"/api/cdr-sources/{created['id']}", headers=admin).text,
    ):
        assert "s3cret-pbx-password" not in answer

    stored = db_session.get(CdrSource, created["id"])
    assert stored is not None and stored.secret is not None
    assert "s3cret" not in stored.secret
    assert crypto.decrypt(settings, stored.secret) == "s3cret-pbx-password"
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "cdr_sources")
    ).one()
    assert audit.changes["secret"] == "***"

    cleared = client.patch(
        f"/api/cdr-sources/{created['id']}", json={"password": ""}, headers=admin
    ).json()
    assert cleared["has_password"] is False


def test_parameters_are_checked_against_the_type(
    app: FastAPI,
    client: TestClient,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    app.state.settings = settings.model_copy(update={"cdr_source_roots": ["/var/log/asterisk"]})
    billing, admin = auth_headers(Role.BILLING), auth_headers(Role.ADMIN)
    bad = {
        **DB_SOURCE,
        "params": {"dialect": "oracle", "host": "x", "timezone": "Mars/Base", "sslmode": "on"},
    }
    response = client.post("/api/cdr-sources", json=bad, headers=billing)
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["detail"]}
    assert {
        "params.dialect",
        "params.database",
        "params.username",
        "params.timezone",
        "params.sslmode",
    } <= fields

    folder = {
        "name": "pbx-files",
        "type": "directory",
        "params": {"path": "/var/log/asterisk/cdr-csv"},
    }
    assert "params.format" in client.post("/api/cdr-sources", json=folder, headers=admin).text
    with_password = {
        **folder,
        "params": {**folder["params"], "format": "asterisk-csv"},
        "password": "x",
    }
    response = client.post("/api/cdr-sources", json=with_password, headers=admin)
    assert response.status_code == 422
    assert "has no password" in response.json()["error"]

    assert client.post("/api/cdr-sources", json=DB_SOURCE, headers=billing).status_code == 201
    again = client.post("/api/cdr-sources", json=DB_SOURCE, headers=billing)
    assert again.status_code == 409
    assert again.json()["code"] == "source_name_taken"


def test_update_and_delete_keep_the_cdrs(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing = auth_headers(Role.BILLING)
    source = client.post("/api/cdr-sources", json=DB_SOURCE, headers=billing).json()
    cdr = factories.cdr(db_session, source=DB_SOURCE["name"])
    db_session.commit()

    changed = client.patch(
        f"/api/cdr-sources/{source['id']}",
        json={
            "enabled": False,
            "params": {**DB_SOURCE["params"], "port": 5433},
            "password": "s3cret-pbx-password",
        },
        headers=billing,
    )
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["params"]["port"]) == (False, 5433)
    assert changed.json()["has_password"] is True
    assert client.delete(f"/api/cdr-sources/{source['id']}", headers=billing).status_code == 204
    assert client.get(f"/api/cdr-sources/{source['id']}", headers=billing).status_code == 404
    assert db_session.get(Cdr, cdr.id) is not None


def _push_source(db_session: Session, name: str = "pbx-push") -> CdrSource:
    source = CdrSource(name=name, type="push", params={})
    db_session.add(source)
    db_session.flush()
    return source


def test_fetch_returns_the_window_of_the_source_page_by_page(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    app.state.settings = settings.model_copy(update={"timezone": "Asia/Jakarta"})
    _push_source(db_session)
    before = dt.datetime(2025, 11, 4, 16, 59, tzinfo=dt.UTC)  # 23:59 on the 4th in Jakarta
    first = dt.datetime(2025, 11, 4, 17, 0, tzinfo=dt.UTC)  # midnight of the 5th
    last = dt.datetime(2025, 11, 6, 16, 59, tzinfo=dt.UTC)  # 23:59 on the 6th
    after = dt.datetime(2025, 11, 6, 17, 0, tzinfo=dt.UTC)
    inside = [
        factories.cdr(db_session, source="pbx-push", start_time=first + dt.timedelta(hours=h))
        for h in range(0, 48, 2)
    ] + [factories.cdr(db_session, source="pbx-push", start_time=last)]
    for start in (before, after):
        factories.cdr(db_session, source="pbx-push", start_time=start)
    factories.cdr(db_session, source="another-pbx", start_time=first)
    billing = auth_headers(Role.BILLING)

    seen: list[int] = []
    cursor = None
    while True:
        params = {
            "source": "pbx-push",
            "startDate": "2025-11-05",
            "endDate": "2025-11-06",
            "limit": 10,
        }
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/cdrs/fetch", params=params, headers=billing)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [cdr.id for cdr in inside]
    run = page["run"]
    assert run["status"] == "succeeded" and run["trigger"] == "api"
    assert run["window_start"].startswith("2025-11-04T17:00:00")
    assert run["window_end"].startswith("2025-11-06T17:00:00")
    assert page["items"][0]["status"] == "valid"  # validated by the fetch


def test_fetch_errors_say_what_is_wrong(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    _push_source(db_session)
    billing = auth_headers(Role.BILLING)

    def fetch(**params: str) -> tuple[int, str]:
        query = {"source": "pbx-push", "startDate": "2025-11-01", "endDate": "2025-11-30"} | params
        response = client.get("/api/cdrs/fetch", params=query, headers=billing)
        return response.status_code, response.json()["error"]

    assert fetch(source="nope") == (404, "no CDR source named 'nope' (known: pbx-push)")
    status, error = fetch(startDate="05/11/2025")
    assert status == 422 and "startDate '05/11/2025' is not an ISO date" in error
    status, error = fetch(startDate="2025-11-30", endDate="2025-11-01")
    assert status == 422 and "must be after startDate" in error
    status, error = fetch(cursor="42")
    assert status == 422 and "cursor" in error
    assert client.get("/api/cdrs/fetch", headers=billing).status_code == 422


def test_a_database_that_drops_connections_is_retried_then_the_failure_is_recorded_and_reported(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    with dropping_server() as server, webhook_receiver() as hook:
        app.state.settings = settings.model_copy(
            update={
                "cdr_fetch_max_attempts": 3,
                "cdr_fetch_backoff_seconds": 0.01,
                "notify_webhook_url": hook.url,
            }
        )
        source = CdrSource(
            name="pbx-db",
            type="asterisk_db",
            params={
                "dialect": "postgresql",
                "host": "127.0.0.1",
                "port": server.port,
                "database": "asterisk",
                "username": "asterisk",
            },
        )
        db_session.add(source)
        db_session.flush()
        response = client.get(
            "/api/cdrs/fetch",
            params={"source": "pbx-db", "startDate": "2025-11-05", "endDate": "2025-11-05"},
            headers=auth_headers(Role.BILLING),
        )

    assert response.status_code == 502
    assert response.json()["error"].startswith(
        "pbx-db: unreachable after 3 tries: OperationalError"
    )
    assert server.connections == 3
    run = db_session.scalars(select(CdrFetchRun).where(CdrFetchRun.source_id == source.id)).one()
    assert (run.status.value, run.attempts, run.imported) == ("failed", 3, 0)
    assert run.error == response.json()["error"]
    db_session.refresh(source)
    assert source.last_fetch_status == "failed" and source.last_error == run.error
    assert len(hook.posts) == 1
    report = hook.posts[0]
    assert (report["kind"], report["ok"], report["counts"]["tries"]) == ("fetch", False, 3)
    assert "unreachable after 3 tries" in report["error"]
