"""The call sync page: the counts, the Sync_Log with its filters, and retry failed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.cdrs.crm_sync.models import SyncLog
from telecrm.cdrs.models import Cdr
from tests.cdrs.crm_sync.helpers import valid_cdrs
from tests.web.pages.conftest import PageClient


def test_counts_log_filters_and_retry_failed(
    signed_in_client: Callable[..., PageClient], db_session: Session
) -> None:
    synced, failed = valid_cdrs(db_session, 2)
    synced.sync_status = "synced"
    failed.sync_status, failed.sync_attempts, failed.sync_message = "failed", 5, "HubSpot 400"
    db_session.add_all(
        [
            SyncLog(cdr_id=synced.id, status="synced", attempt=1, crm_call_id="call-9"),
            SyncLog(cdr_id=failed.id, status="failed", attempt=5, message="HubSpot 400"),
        ]
    )
    db_session.flush()
    viewer = signed_in_client(Role.VIEWER)
    page = viewer.get("/sync").text
    assert '<td class="num" data-count="failed">1</td>' in page
    assert '<td class="num" data-count="out_of_attempts">1</td>' in page
    assert "Retry failed (" not in page  # a viewer may read the sync, not requeue
    only_failed = viewer.get("/sync", params={"status": "failed", "cdr_id": str(failed.id)})
    assert "HubSpot 400" in only_failed.text and "call-9" not in only_failed.text
    bad = viewer.get("/sync", params={"cdr_id": "twelve"})
    assert bad.status_code == 422
    assert 'id="cdr_id-error"' in bad.text

    billing = signed_in_client(Role.BILLING)
    assert "Retry failed (1)" in billing.get("/sync").text
    response = billing.post_form("/sync/retry-failed")
    assert response.status_code == 303
    assert "Re-queued 1 failed CDRs" in billing.get(response.headers["location"]).text
    db_session.expire_all()
    cdr = db_session.get(Cdr, failed.id)
    assert cdr is not None and (cdr.sync_status, cdr.sync_attempts) == ("pending", 0)
