"""Posts staged, then drained in batches: the accounting, the rejects and the audit trail
of several posts imported as one, and what is refused before anything is staged."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.audit.models import AuditEntry
from telecrm.cdrs.models import Cdr, CdrReject
from telecrm.cdrs.sources import staging
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, StagedPush
from telecrm.config import Settings
from tests import factories

GOOD = {
    "src": "1001",
    "dst": "081234567890",
    "start_time": "2025-11-05T09:00:00Z",
    "duration": 70,
    "billsec": 61,
    "disposition": "ANSWERED",
}


def _freeswitch(call_id: str) -> bytes:
    document = {
        "variables": {
            "uuid": call_id,
            "caller_id_number": "1001",
            "destination_number": "081234567890",
            "start_stamp": "2025-11-05%2016%3A00%3A00",
            "duration": "65",
            "billsec": "61",
            "hangup_cause": "NORMAL_CLEARING",
        },
        "callflow": [],
    }
    return ("cdr=" + quote(json.dumps(document), safe="")).encode()


def _batch(*rows: dict[str, object]) -> bytes:
    return json.dumps({"cdrs": list(rows)}).encode()


def _source(db_session: Session, name: str = "fs-1") -> CdrSource:
    source = CdrSource(name=name, type="push", params={"timezone": "Asia/Jakarta"})
    db_session.add(source)
    db_session.flush()
    return source


def test_posts_drained_as_one_batch_keep_their_lines_and_are_counted_once(
    db_session: Session, settings: Settings
) -> None:
    _source(db_session)
    form = "application/x-www-form-urlencoded"
    accepted = [
        staging.accept_push(
            db_session,
            "fs-1",
            _batch(GOOD | {"call_id": "b.1"}),
            "application/json",
            "api_key:1:fs",
        ),
        staging.accept_push(
            db_session,
            "fs-1",
            _batch(GOOD | {"call_id": "b.2"}, {"call_id": "b.3", "src": "1001"}),
            "application/json; charset=utf-8",
            "api_key:1:fs",
        ),
        staging.accept_push(db_session, "fs-1", _freeswitch("f.1"), form, "api_key:1:fs"),
        staging.accept_push(db_session, "fs-1", _freeswitch("f.1"), form, "api_key:1:fs"),
    ]
    assert [post.calls for post in accepted] == [1, 2, 1, 1]
    assert db_session.scalars(select(Cdr)).all() == []

    counts = staging.drain_pushed(db_session, settings, 100)

    assert (counts.posts, counts.calls, counts.runs) == (4, 5, 1)
    assert (counts.imported, counts.duplicates, counts.rejected) == (3, 1, 1)
    stored = db_session.scalars(select(Cdr.call_id).where(Cdr.source == "fs-1")).all()
    assert sorted(stored) == ["b.1", "b.2", "f.1"]
    reject = db_session.scalars(select(CdrReject)).one()
    # the second row of its own post, not the third of the batch the drain made
    assert (reject.line_number, reject.reason) == (2, "no start time")
    run = db_session.scalars(select(CdrFetchRun)).one()
    assert (run.trigger, run.rows_read, run.imported, run.duplicates, run.rejected) == (
        "push",
        5,
        3,
        1,
        1,
    )
    assert db_session.scalars(select(StagedPush)).all() == []
    assert staging.drain_pushed(db_session, settings, 100).posts == 0


def test_a_drain_takes_the_oldest_posts_up_to_its_batch(
    db_session: Session, settings: Settings
) -> None:
    _source(db_session)
    for number in range(5):
        staging.accept_push(
            db_session, "fs-1", _batch(GOOD | {"call_id": f"o.{number}"}), "application/json", "a"
        )
    first = staging.drain_pushed(db_session, settings, 3)
    assert (first.posts, first.imported) == (3, 3)
    assert sorted(db_session.scalars(select(Cdr.call_id)).all()) == ["o.0", "o.1", "o.2"]
    assert staging.staged_posts(db_session) == 2
    assert staging.drain_pushed(db_session, settings, 3).posts == 2
    assert staging.staged_posts(db_session) == 0


def test_the_audit_trail_names_who_posted_each_batch(
    db_session: Session, settings: Settings
) -> None:
    _source(db_session)
    _source(db_session, "fs-2")
    staging.accept_push(db_session, "fs-1", _batch(GOOD | {"call_id": "a.1"}), "", "api_key:1:one")
    staging.accept_push(db_session, "fs-2", _batch(GOOD | {"call_id": "a.2"}), "", "api_key:2:two")
    staging.accept_push(db_session, "fs-1", _batch(GOOD | {"call_id": "a.3"}), "", "api_key:2:two")

    counts = staging.drain_pushed(db_session, settings, 100)

    assert (counts.posts, counts.imported, counts.runs) == (3, 3, 3)
    created = db_session.execute(
        select(AuditEntry.actor, AuditEntry.object_id).where(
            AuditEntry.object_type == "cdr_fetch_runs", AuditEntry.action == "create"
        )
    ).all()
    runs = {run.id: run for run in db_session.scalars(select(CdrFetchRun))}
    by_actor = sorted((actor, runs[int(run_id)].source_id) for actor, run_id in created)
    sources = {s.name: s.id for s in db_session.scalars(select(CdrSource))}
    assert by_actor == sorted(
        [
            ("api_key:1:one", sources["fs-1"]),
            ("api_key:2:two", sources["fs-1"]),
            ("api_key:2:two", sources["fs-2"]),
        ]
    )
    assert db_session.info.get("audit_actor") is None  # the drain's own actor is restored


def test_a_post_whose_source_went_away_is_kept_as_a_reject(
    db_session: Session, settings: Settings
) -> None:
    source = _source(db_session)
    body = _batch(GOOD | {"call_id": "g.1"})
    staging.accept_push(db_session, "fs-1", body, "application/json", "api_key:1:fs")
    db_session.delete(source)
    db_session.flush()

    counts = staging.drain_pushed(db_session, settings, 100)

    assert (counts.posts, counts.imported, counts.rejected, counts.runs) == (1, 0, 1, 0)
    reject = db_session.scalars(select(CdrReject)).one()
    assert (reject.source, reject.line_number) == ("fs-1", 0)
    assert reject.reason == "CDR source 'fs-1' is no longer a push source"
    assert reject.raw == body.decode()
    assert staging.staged_posts(db_session) == 0


@pytest.mark.parametrize(
    ("source", "body", "content_type", "status", "code"),
    [
        ("nope", b"[]", "application/json", 404, "source_not_found"),
        ("files", b"[]", "application/json", 409, "source_not_push"),
        ("off", b"[]", "application/json", 409, "source_disabled"),
        ("fs-1", b"{not json", "application/json", 422, "validation_failed"),
        ("fs-1", b"who=me", "application/x-www-form-urlencoded", 422, "validation_failed"),
        ("fs-1", b"<cdr/>", "application/xml", 422, "validation_failed"),
    ],
)
def test_what_is_wrong_with_a_post_as_a_whole_is_refused_and_nothing_staged(
    client: TestClient,
    db_session: Session,
    source: str,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    _source(db_session)
    db_session.add(CdrSource(name="off", type="push", params={}, enabled=False))
    db_session.add(
        CdrSource(name="files", type="directory", params={"path": "/x", "format": "asterisk-csv"})
    )
    _, key = factories.api_key(db_session)

    response = client.post(
        f"/api/cdrs/push?source={source}",
        content=body,
        headers={"X-API-Key": key, "Content-Type": content_type},
    )

    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert staging.staged_posts(db_session) == 0
