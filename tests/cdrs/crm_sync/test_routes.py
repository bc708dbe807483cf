from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.config import Settings
from tests import factories
from tests.cdrs.crm_sync.helpers import valid_cdrs
from tests.crm.fake_hubspot import FakeHubSpot
from tests.loopback import webhook_receiver


def test_sync_endpoint_pushes_requeues_logs_and_reports(
    sync_app: FastAPI,
    sync_settings: Settings,
    db_session: Session,
    hubspot: FakeHubSpot,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    client = TestClient(sync_app, raise_server_exceptions=False)
    billing = auth_headers(Role.BILLING)
    ok, refused, untouched = valid_cdrs(db_session, 3)
    hubspot.refused.add(("calls", refused.unique_key))

    with webhook_receiver() as hook:
        sync_app.state.settings = sync_settings.model_copy(update={"notify_webhook_url": hook.url})
        response = client.post(
            "/api/cdrs/sync", json={"cdr_ids": [ok.id, refused.id]}, headers=billing
        )
    assert len(hook.posts) == 1
    assert hook.posts[0]["counts"]["failed"] == 1
    assert hook.posts[0]["examples"][0]["cdr_id"] == refused.id
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["synced"], body["failed"], body["batches"], body["requeued"]) == (1, 1, 1, 0)
    assert body["examples"][0]["cdr_id"] == refused.id

    log = client.get(f"/api/cdrs/sync-log?cdr_id={refused.id}", headers=billing).json()
    assert [(entry["status"], entry["attempt"]) for entry in log] == [("failed", 1)]
    assert "not valid" in log[0]["message"]

    hubspot.refused.clear()
    again = client.post("/api/cdrs/sync", json={"retry_failed": True}, headers=billing).json()
    assert (again["requeued"], again["synced"], again["failed"]) == (1, 2, 0)
    assert hubspot.count("calls") == 3
    db_session.refresh(untouched)
    assert untouched.sync_status == "synced"


def test_requeue_endpoint_and_an_empty_sync_need_no_crm(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing = auth_headers(Role.BILLING)
    (cdr,) = valid_cdrs(db_session, 1, sync_status="failed", sync_attempts=5)
    assert client.post(
        "/api/cdrs/sync/requeue", json={"cdr_ids": [cdr.id]}, headers=billing
    ).json() == {"requeued": 1}
    db_session.refresh(cdr)
    assert (cdr.sync_status, cdr.sync_attempts) == ("pending", 0)
    cdr.status = "new"  # not due: nothing to push, so no CRM is needed to answer
    db_session.commit()
    body = client.post("/api/cdrs/sync", headers=billing).json()
    assert (body["batches"], body["synced"]) == (0, 0)


def test_without_a_crm_configured_a_due_cdr_is_a_clear_error(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    valid_cdrs(db_session, 1)
    response = client.post("/api/cdrs/sync", headers=auth_headers(Role.BILLING))
    assert response.status_code == 400
    assert "TELECRM_HUBSPOT_TOKEN" in response.json()["error"]


def test_sync_counts_tell_pending_synced_failed_and_those_out_of_attempts(
    sync_app: FastAPI,
    db_session: Session,
    hubspot: FakeHubSpot,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    client = TestClient(sync_app, raise_server_exceptions=False)
    ok, refused, _waiting = valid_cdrs(db_session, 3)
    hubspot.refused.add(("calls", refused.unique_key))
    valid_cdrs(db_session, 1, sync_status="failed", sync_attempts=3)
    factories.cdr(db_session, status="invalid")  # never goes to the CRM: not counted
    billing = auth_headers(Role.BILLING)
    client.post("/api/cdrs/sync", json={"cdr_ids": [ok.id, refused.id]}, headers=billing)
    counts = client.get("/api/cdrs/sync/counts", headers=auth_headers(Role.VIEWER))
    assert counts.status_code == 200, counts.text
    # refused is failed and waits its backoff; waiting is pending and due; exhausted
    # is failed with no try left (max 3 attempts)
    assert counts.json() == {
        "pending": 1,
        "synced": 1,
        "failed": 2,
        "out_of_attempts": 1,
        "due": 1,
    }
