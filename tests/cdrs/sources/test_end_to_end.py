"""Each kind of source from the PBX's side to the cdrs table: a real Asterisk CDR
database (PostgreSQL, MariaDB), a folder of Master.csv files, and HTTP push."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.cdrs.models import Cdr, CdrReject
from telecrm.cdrs.sources import service, staging
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, StagedPush
from telecrm.cdrs.sources.staging import DrainCounts
from telecrm.config import Settings
from tests import factories
from tests.cdrs.sources.pbx_databases import call, pbx_database
from tests.loopback import webhook_receiver

LOCAL = dt.datetime(2025, 11, 5, 16, 0)  # Jakarta wall clock: 09:00 UTC


def _fetch(client: TestClient, headers: dict[str, str], name: str, **window: str) -> Any:
    params = {"source": name, "startDate": "2025-11-05", "endDate": "2025-11-05", **window}
    response = client.get("/api/cdrs/fetch", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("dialect", "layout"), [("postgresql", "classic"), ("mysql", "ast-db-manage")]
)
def test_an_asterisk_database_window_is_stored_once_and_validated(
    client: TestClient,
    db_session: Session,
    auth_headers: Callable[..., dict[str, str]],
    dialect: str,
    layout: str,
) -> None:
    billing = auth_headers(Role.BILLING)
    with pbx_database(dialect, layout) as pbx:
        pbx.insert(
            call(LOCAL - dt.timedelta(days=1), "1762246800.1"),  # the day before: outside
            call(LOCAL, "1762333200.2"),
            call(LOCAL + dt.timedelta(hours=1), "1762336800.3", dst="s"),  # invalid
            call(LOCAL + dt.timedelta(hours=2), "1762340400.4", disposition="BUSY", billsec=0),
        )
        created = client.post(
            "/api/cdr-sources",
            json={
                "name": "pbx-db",
                "type": "asterisk_db",
                "params": pbx.params | {"timezone": "Asia/Jakarta"},
                "password": "",
            },
            headers=billing,
        )
        assert created.status_code == 201, created.text
        first = _fetch(client, billing, "pbx-db", endDate="2025-11-06")
        again = _fetch(client, billing, "pbx-db", endDate="2025-11-06")

    run = first["run"]
    # a called number that is no number is rating's (invalid_number), not invalid
    assert (run["rows_read"], run["imported"], run["duplicates"], run["invalid"]) == (3, 3, 0, 0)
    assert (again["run"]["imported"], again["run"]["duplicates"]) == (0, 3)
    items = first["items"]
    assert [item["call_id"] for item in items] == ["1762333200.2", "1762336800.3", "1762340400.4"]
    assert items[0]["start_time"].startswith("2025-11-05T09:00:00")
    assert (items[0]["source"], items[0]["billsec"], items[0]["status"]) == ("pbx-db", 61, "valid")
    assert (items[1]["status"], items[1]["validation_errors"]) == ("valid", ["dst_not_a_number"])
    assert items[2]["disposition"] == "BUSY"
    assert [item["id"] for item in again["items"]] == [item["id"] for item in items]
    source = db_session.scalars(select(CdrSource).where(CdrSource.name == "pbx-db")).one()
    assert source.last_fetch_status == "succeeded"
    assert source.watermark == dt.datetime(2025, 11, 5, 11, 0, tzinfo=dt.UTC)


def test_the_worker_reads_a_database_on_from_before_its_latest_call(
    db_session: Session, settings: Settings
) -> None:
    with pbx_database("postgresql", "ast-db-manage") as pbx:
        source = CdrSource(
            name="pbx-db",
            type="asterisk_db",
            params=pbx.params | {"timezone": "Asia/Jakarta"},
        )
        db_session.add(source)
        db_session.flush()
        pbx.insert(call(LOCAL, "a.1"), call(LOCAL + dt.timedelta(hours=3), "a.3"))
        first = service.fetch_incremental(db_session, settings, "pbx-db")
        # a long call that started before the latest one seen, written when it ended,
        # and one from before the overlap that must not be read again
        pbx.insert(
            call(LOCAL + dt.timedelta(hours=1), "a.2"),
            call(LOCAL - dt.timedelta(hours=5), "a.0"),
        )
        second = service.fetch_incremental(db_session, settings, "pbx-db")

    assert (first.imported, first.window_start) == (2, None)
    assert second.window_start == dt.datetime(2025, 11, 5, 8, 0, tzinfo=dt.UTC)  # 12:00 - 4 h
    assert (second.rows_read, second.imported, second.duplicates) == (3, 1, 2)  # a.1-a.3
    stored = db_session.scalars(select(Cdr.call_id).where(Cdr.source == "pbx-db")).all()
    assert sorted(stored) == ["a.1", "a.2", "a.3"]


MASTER_CSV = (
    '"ACC1","1001","081234567890","from-internal","""Budi"" <1001>","PJSIP/1001-00000001",'
    '"PJSIP/trunk-00000002","Dial","PJSIP/081234567890@trunk,60","2025-11-05 16:00:00",'
    '"2025-11-05 16:00:05","2025-11-05 16:01:06",66,61,"ANSWERED","DOCUMENTATION",'
    '"1762333200.1",""\n'
    '"ACC1","1002","0215550101","from-internal","""Siti"" <1002>","PJSIP/1002-00000003",'
    '"PJSIP/trunk-00000004","Dial","PJSIP/0215550101@trunk,60","2025-11-05 17:00:00",'
    '"","2025-11-05 17:00:20",20,0,"NO ANSWER","DOCUMENTATION","1762336800.2",""\n'
    '"ACC1","1003","0215550102","from-internal","","PJSIP/1003-00000005","","Dial","",'
    '"not a date","","",5,0,"FAILED","DOCUMENTATION","1762336900.3",""\n'
)
LATER_CALL = (
    '"ACC1","1001","081234567891","from-internal","""Budi"" <1001>","PJSIP/1001-00000006",'
    '"PJSIP/trunk-00000007","Dial","PJSIP/081234567891@trunk,60","2025-11-05 18:00:00",'
    '"2025-11-05 18:00:02","2025-11-05 18:00:32",32,30,"ANSWERED","DOCUMENTATION",'
    '"1762340400.4",""\n'
)


def test_a_folder_of_master_csv_files_is_read_once_per_file(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    app.state.settings = settings.model_copy(update={"cdr_source_roots": [tmp_path]})
    billing = auth_headers(Role.BILLING)
    (tmp_path / "Master.csv").write_text(MASTER_CSV)
    (tmp_path / "notes.txt").write_text("not a CDR file")
    params = {"path": str(tmp_path), "format": "asterisk-csv", "pattern": "*.csv"}
    params["timezone"] = "Asia/Jakarta"
    body = {"name": "pbx-files", "type": "directory", "params": params}
    admin = auth_headers(Role.ADMIN)
    assert client.post("/api/cdr-sources", json=body, headers=admin).status_code == 201

    first = _fetch(client, billing, "pbx-files")["run"]
    second = _fetch(client, billing, "pbx-files")["run"]
    with (tmp_path / "Master.csv").open("a") as master:
        master.write(LATER_CALL)
    third = _fetch(client, billing, "pbx-files")["run"]

    assert (first["files"], first["imported"], first["rejected"]) == (1, 2, 1)
    assert (second["files"], second["imported"]) == (0, 0)  # the file is unchanged
    # only the appended line is read
    assert (third["files"], third["rows_read"], third["imported"], third["duplicates"]) == (
        1,
        1,
        1,
        0,
    )
    reject = db_session.scalars(select(CdrReject).where(CdrReject.source == "pbx-files")).one()
    assert reject.line_number == 3 and "not a date" in reject.reason


FREESWITCH_CDR = {
    "core-uuid": "2b1a3f6c-0d54-4bde-9b8c-1f6d5d1c2a11",
    "switchname": "fs-jakarta-1",
    "variables": {
        "uuid": "a5b7b0f2-3c5e-4c1a-9d1e-4bb8f1f2c001",
        "accountcode": "ACC7",
        "start_stamp": "2025-11-05%2016%3A00%3A00",
        "answer_stamp": "2025-11-05%2016%3A00%3A04",
        "end_stamp": "2025-11-05%2016%3A01%3A05",
        "duration": "65",
        "billsec": "61",
        "hangup_cause": "NORMAL_CLEARING",
        "last_app": "bridge",
    },
    "callflow": [
        {
            "caller_profile": {
                "caller_id_name": "Budi",
                "caller_id_number": "1001",
                "destination_number": "081234567890",
                "context": "default",
                "chan_name": "sofia/internal/1001@10.0.0.2",
            }
        }
    ],
}


def _drain(db_session: Session, settings: Settings) -> DrainCounts:
    """What the server's drain does, in the test's transaction."""
    return staging.drain_pushed(db_session, settings, 1000)


def _push(client: TestClient, body: bytes, content_type: str, headers: dict[str, str]) -> Any:
    return client.post(
        "/api/cdrs/push?source=fs-1",
        content=body,
        headers={"Content-Type": content_type, **headers},
    )


def test_freeswitch_pushes_with_its_api_key_each_call_stored_once(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
) -> None:
    app.state.settings = settings.model_copy(update={"timezone": "Asia/Jakarta"})
    db_session.add(CdrSource(name="fs-1", type="push", params={}))
    _, key = factories.api_key(db_session)
    document = json.dumps(FREESWITCH_CDR)
    form = ("cdr=" + quote(document, safe="")).encode()
    basic = base64.b64encode(f"fs-1:{key}".encode()).decode()

    first = _push(client, form, "application/x-www-form-urlencoded", {"X-API-Key": key})
    assert first.status_code == 202, first.text
    assert first.json() | {"staged_id": 0} == {"status": "accepted", "staged_id": 0, "calls": 1}
    assert db_session.scalars(select(Cdr).where(Cdr.source == "fs-1")).all() == []
    first_drain = _drain(db_session, app.state.settings)
    as_basic = _push(
        client, form, "application/x-www-form-urlencoded", {"Authorization": f"Basic {basic}"}
    )
    encoded = b"cdr=" + base64.b64encode(document.encode())
    as_base64 = _push(client, encoded, "application/x-www-form-base64-encoded", {"X-API-Key": key})
    assert (as_basic.status_code, as_base64.status_code) == (202, 202), as_basic.text
    again = _drain(db_session, app.state.settings)

    assert (first_drain.posts, first_drain.imported, first_drain.runs) == (1, 1, 1)
    assert (again.posts, again.calls, again.imported, again.duplicates) == (2, 2, 0, 2)
    runs = db_session.scalars(select(CdrFetchRun).order_by(CdrFetchRun.id)).all()
    assert [(r.trigger, r.status.value, r.rows_read, r.imported, r.duplicates) for r in runs] == [
        ("push", "succeeded", 1, 1, 0),
        ("push", "succeeded", 2, 0, 2),
    ]
    assert db_session.scalars(select(StagedPush)).all() == []
    cdr = db_session.scalars(select(Cdr).where(Cdr.source == "fs-1")).one()
    assert cdr.call_id == "a5b7b0f2-3c5e-4c1a-9d1e-4bb8f1f2c001"
    assert cdr.start_time == dt.datetime(2025, 11, 5, 9, 0, tzinfo=dt.UTC)
    assert (cdr.src, cdr.dst, cdr.billsec, cdr.disposition) == (
        "1001",
        "081234567890",
        61,
        "ANSWERED",
    )
    wrong = base64.b64encode(b"fs-1:tcrm_not_a_key").decode()
    refused = _push(
        client, form, "application/x-www-form-urlencoded", {"Authorization": f"Basic {wrong}"}
    )
    assert refused.status_code == 401


def test_a_plain_json_batch_and_what_is_wrong_with_it(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    db_session.add(CdrSource(name="fs-1", type="push", params={"timezone": "Asia/Jakarta"}))
    db_session.add(
        CdrSource(
            name="pbx-files", type="directory", params={"path": "/x", "format": "asterisk-csv"}
        )
    )
    _, key = factories.api_key(db_session)
    batch = {
        "cdrs": [
            {
                "call_id": "p.1",
                "src": "1001",
                "dst": "081234567890",
                "start_time": "2025-11-05T09:00:00Z",
                "duration": 70,
                "billsec": 61,
                "disposition": "ANSWERED",
            },
            {
                "call_id": "p.2",
                "src": "1001",
                "dst": "081234567890",
                "start_time": "2025-11-05 16:05:00",  # the source's zone: Jakarta
                "duration": 30,
                "billsec": 45,
                "disposition": "ANSWERED",
            },
            {"call_id": "p.3", "src": "1001", "duration": "x", "billsec": 0},
        ]
    }
    response = client.post("/api/cdrs/push?source=fs-1", json=batch, headers={"X-API-Key": key})
    assert response.status_code == 202, response.text
    assert response.json()["calls"] == 3
    _drain(db_session, settings)
    run = db_session.scalars(select(CdrFetchRun)).one()
    assert (run.rows_read, run.imported, run.rejected) == (3, 2, 1)
    reject = db_session.scalars(select(CdrReject).where(CdrReject.source == "fs-1")).one()
    assert (reject.line_number, reject.reason) == (3, "no start time")
    cdrs = {c.call_id: c for c in db_session.scalars(select(Cdr).where(Cdr.source == "fs-1"))}
    assert cdrs["p.1"].start_time == dt.datetime(2025, 11, 5, 9, 0, tzinfo=dt.UTC)
    assert cdrs["p.2"].start_time == dt.datetime(2025, 11, 5, 9, 5, tzinfo=dt.UTC)
    # validated as it is stored (never rated); reported by the push source's next fetch
    assert cdrs["p.2"].status == "invalid"
    assert cdrs["p.2"].validation_errors == ["billsec_exceeds_duration"]
    with webhook_receiver() as hook:
        app.state.settings = settings.model_copy(update={"notify_webhook_url": hook.url})
        fetched = _fetch(client, auth_headers(Role.BILLING), "fs-1")
    assert fetched["run"]["invalid"] == 1
    assert [item["validation_errors"] for item in fetched["items"]] == [
        None,
        ["billsec_exceeds_duration"],
    ]
    assert len(hook.posts) == 1 and hook.posts[0]["examples"][0]["call_id"] == "p.2"
    counts = hook.posts[0]["counts"]
    assert (counts["with findings"], counts["finding billsec_exceeds_duration"]) == (1, 1)

    not_push = client.post(
        "/api/cdrs/push?source=pbx-files", json=batch, headers={"X-API-Key": key}
    )
    assert not_push.status_code == 409
    assert not_push.json()["code"] == "source_not_push"
    unreadable = client.post(
        "/api/cdrs/push?source=fs-1",
        content=b"<cdr/>",
        headers={"X-API-Key": key, "Content-Type": "application/xml"},
    )
    assert unreadable.status_code == 422


def test_a_pushed_cdr_with_a_nul_is_a_reject_and_the_others_are_stored(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    db_session.add(CdrSource(name="fs-1", type="push", params={"timezone": "Asia/Jakarta"}))
    _, key = factories.api_key(db_session)
    good = {
        "call_id": "n.1",
        "src": "1001",
        "dst": "081234567890",
        "start_time": "2025-11-05T09:00:00Z",
        "duration": 70,
        "billsec": 61,
        "disposition": "ANSWERED",
    }
    batch = {"cdrs": [good | {"call_id": "n.0", "dst": "0812\x0034567890"}, good]}
    document = json.loads(json.dumps(FREESWITCH_CDR))
    document["callflow"][0]["caller_profile"]["caller_id_name"] = "Bu\x00di"

    posts = []
    for _ in range(2):
        posts.append(
            client.post("/api/cdrs/push?source=fs-1", json=batch, headers={"X-API-Key": key})
        )
        drained = [_drain(db_session, settings)]
    posts.append(
        client.post("/api/cdrs/push?source=fs-1", json=document, headers={"X-API-Key": key})
    )
    drained.append(_drain(db_session, settings))

    assert [post.status_code for post in posts] == [202, 202, 202], posts[0].text
    runs = db_session.scalars(select(CdrFetchRun).order_by(CdrFetchRun.id)).all()
    assert [(run.imported, run.rejected) for run in runs] == [(1, 1), (0, 1), (0, 1)]
    assert db_session.scalars(select(Cdr.call_id).where(Cdr.source == "fs-1")).all() == ["n.1"]
    rejects = db_session.scalars(select(CdrReject).order_by(CdrReject.id)).all()
    # the same bad CDR pushed twice is kept once (and counted in each push)
    assert len(rejects) == 2
    assert (rejects[0].line_number, rejects[0].reason) == (1, "field dst contains a NUL byte")
    assert (rejects[-1].line_number, rejects[-1].reason) == (1, "field clid contains a NUL byte")
    assert all("\x00" not in r.raw for r in rejects) and "0812\\u000034567890" in rejects[0].raw


def test_a_database_row_with_a_nul_is_a_reject_and_the_others_are_stored(
    db_session: Session, settings: Settings
) -> None:
    with pbx_database("mysql", "ast-db-manage") as pbx:
        source = CdrSource(
            name="pbx-db", type="asterisk_db", params=pbx.params | {"timezone": "Asia/Jakarta"}
        )
        db_session.add(source)
        db_session.flush()
        pbx.insert(
            call(LOCAL, "d.1"),
            call(LOCAL + dt.timedelta(hours=1), "d.2", lastdata="PJSIP/0812\x00@trunk"),
            call(LOCAL + dt.timedelta(hours=2), "d.3"),
        )
        first = service.fetch_incremental(db_session, settings, "pbx-db")
        again = service.fetch_incremental(db_session, settings, "pbx-db")

    assert (first.rows_read, first.imported, first.rejected) == (3, 2, 1)
    assert (again.rows_read, again.imported, again.duplicates, again.rejected) == (3, 0, 2, 1)
    stored = db_session.scalars(select(Cdr.call_id).where(Cdr.source == "pbx-db")).all()
    assert sorted(stored) == ["d.1", "d.3"]
    reject = db_session.scalars(select(CdrReject).where(CdrReject.source == "pbx-db")).first()
    assert reject is not None and reject.reason == "field lastdata contains a NUL byte"
    assert '"lastdata": "PJSIP/0812\\u0000@trunk"' in reject.raw


def test_a_bad_row_read_again_from_a_pbx_database_is_kept_once(
    client: TestClient,
    db_session: Session,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    billing = auth_headers(Role.BILLING)
    with pbx_database("mysql", "ast-db-manage") as pbx:
        db_session.add(
            CdrSource(
                name="pbx-db", type="asterisk_db", params=pbx.params | {"timezone": "Asia/Jakarta"}
            )
        )
        pbx.insert(
            call(LOCAL, "r.1"),
            call(LOCAL + dt.timedelta(hours=1), "r.2", lastdata="PJSIP/0812\x00@trunk"),
        )
        runs = [_fetch(client, billing, "pbx-db")["run"] for _ in range(2)]
        # another bad row in the same window later: kept as well
        pbx.insert(call(LOCAL + dt.timedelta(hours=2), "r.3", lastdata="PJSIP/0813\x00@trunk"))
        last = _fetch(client, billing, "pbx-db")["run"]

    assert [(run["imported"], run["rejected"]) for run in runs] == [(1, 1), (0, 1)]
    assert (last["imported"], last["rejected"]) == (0, 2)
    raws = db_session.scalars(
        select(CdrReject.raw).where(CdrReject.source == "pbx-db").order_by(CdrReject.id)
    ).all()
    assert len(raws) == 2
    assert '"uniqueid": "r.2"' in raws[0] and '"uniqueid": "r.3"' in raws[1]
