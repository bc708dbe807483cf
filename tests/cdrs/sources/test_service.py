"""What a CDR source may reach: a directory source reads only below the configured
roots, whoever changes where a database source connects gives its password again,
and each type of source is set up only by the roles that may."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.cdrs.models import Cdr, CdrReject
from telecrm.cdrs.sources.models import CdrSource
from telecrm.config import Settings
from tests.cdrs.sources.pbx_databases import call, password_trap, pbx_database
from tests.cdrs.sources.test_end_to_end import MASTER_CSV

SECRET_LINE = "TELECRM_SECRET_KEY=not-for-the-rejects-table"
BAD_LINE = '"ACC1","1001","not","enough","fields"\n'


@pytest.fixture()
def roots(app: FastAPI, settings: Settings, tmp_path: Path) -> Path:
    """One CDR source root, ``tmp_path/pbx``, with a folder of Master.csv files in it;
    ``tmp_path/outside`` holds a file no source may read."""
    root = tmp_path / "pbx"
    (root / "cdr-csv").mkdir(parents=True)
    (root / "cdr-csv" / "Master.csv").write_text(MASTER_CSV)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secrets.csv").write_text(f"{SECRET_LINE}\n{BAD_LINE}")
    app.state.settings = settings.model_copy(
        update={"cdr_source_roots": [root], "cdr_fetch_max_attempts": 1}
    )
    return root


def _directory(path: Path | str, pattern: str = "*.csv", name: str = "pbx-files") -> dict[str, Any]:
    return {
        "name": name,
        "type": "directory",
        "params": {"path": str(path), "format": "asterisk-csv", "pattern": pattern},
    }


def _create(client: TestClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post("/api/cdr-sources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _fetch(client: TestClient, headers: dict[str, str], name: str) -> Any:
    return client.get(
        "/api/cdrs/fetch",
        params={"source": name, "startDate": "2025-11-05", "endDate": "2025-11-05"},
        headers=headers,
    )


def _rejects_text(client: TestClient, headers: dict[str, str]) -> str:
    response = client.get("/api/cdrs/rejects", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


def test_proc_self_environ_cannot_be_read_through_a_directory_source(
    client: TestClient, roots: Path, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing, admin = auth_headers(Role.BILLING), auth_headers(Role.ADMIN)
    attack = _directory("/proc/self", pattern="environ")

    refused = client.post("/api/cdr-sources", json=attack, headers=billing)
    assert refused.status_code == 403, refused.text
    assert "directory" in refused.json()["error"]

    outside = client.post("/api/cdr-sources", json=attack, headers=admin)
    assert outside.status_code == 422, outside.text
    assert [p["field"] for p in outside.json()["detail"]] == ["params.path"]
    assert "TELECRM_CDR_SOURCE_ROOTS" in outside.json()["error"]
    assert "TELECRM_SECRET_KEY" not in _rejects_text(client, admin)


@pytest.mark.parametrize(
    "path",
    [
        "{root}/../outside",
        "{root}/cdr-csv/../../outside",
        "{root}/link-out",  # a symlink inside the root to a folder outside it
        "/etc",
        "cdr-csv",  # relative: not a place
        "{root}/cdr-csv\x00",
    ],
)
def test_a_folder_outside_the_roots_is_refused(
    client: TestClient, roots: Path, auth_headers: Callable[..., dict[str, str]], path: str
) -> None:
    (roots / "link-out").symlink_to(roots.parent / "outside")
    response = client.post(
        "/api/cdr-sources",
        json=_directory(path.format(root=roots)),
        headers=auth_headers(Role.ADMIN),
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == ["params.path"]


@pytest.mark.parametrize("pattern", ["../outside/*", "sub/*.csv", "..", "..\\x", "a\x00.csv", "/*"])
def test_a_pattern_is_a_file_name_glob_never_a_path(
    client: TestClient,
    roots: Path,
    auth_headers: Callable[..., dict[str, str]],
    pattern: str,
) -> None:
    response = client.post(
        "/api/cdr-sources",
        json=_directory(roots / "cdr-csv", pattern=pattern),
        headers=auth_headers(Role.ADMIN),
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == ["params.pattern"]


def test_without_roots_directory_sources_are_refused_naming_the_setting(
    app: FastAPI, client: TestClient, settings: Settings, tmp_path: Path,
    auth_headers: Callable[..., dict[str, str]],
) -> None:  # fmt: skip
    app.state.settings = settings.model_copy(update={"cdr_source_roots": []})
    response = client.post(
        "/api/cdr-sources", json=_directory(tmp_path), headers=auth_headers(Role.ADMIN)
    )
    assert response.status_code == 422, response.text
    assert "TELECRM_CDR_SOURCE_ROOTS" in response.json()["error"]


def test_only_an_admin_creates_or_changes_a_directory_source(
    client: TestClient, roots: Path, auth_headers: Callable[..., dict[str, str]]
) -> None:
    billing, admin = auth_headers(Role.BILLING), auth_headers(Role.ADMIN)
    folder = _directory(roots / "cdr-csv")
    assert client.post("/api/cdr-sources", json=folder, headers=billing).status_code == 403
    created = client.post("/api/cdr-sources", json=folder, headers=admin)
    assert created.status_code == 201, created.text
    path = f"/api/cdr-sources/{created.json()['id']}"

    moved = {"params": {**folder["params"], "path": "/etc", "pattern": "passwd"}}
    for change in (moved, {"enabled": False}):
        refused = client.patch(path, json=change, headers=billing)
        assert refused.status_code == 403, refused.text
    assert client.delete(path, headers=billing).status_code == 403
    assert client.patch(path, json=moved, headers=admin).status_code == 422
    assert client.patch(path, json={"enabled": False}, headers=admin).status_code == 200
    # billing still fetches from it and reads what it stored
    assert client.patch(path, json={"enabled": True}, headers=admin).status_code == 200
    assert _fetch(client, billing, "pbx-files").status_code == 200


def test_a_fetch_skips_a_file_whose_real_path_leaves_the_root(
    client: TestClient,
    db_session: Session,
    roots: Path,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    admin = auth_headers(Role.ADMIN)
    folder = roots / "cdr-csv"
    assert (
        client.post("/api/cdr-sources", json=_directory(folder), headers=admin).status_code == 201
    )
    # planted after the source was set up: a link to a file outside the root
    (folder / "Master-2.csv").symlink_to(roots.parent / "outside" / "secrets.csv")

    response = _fetch(client, admin, "pbx-files")
    assert response.status_code == 200, response.text
    run = response.json()["run"]
    assert (run["files"], run["imported"]) == (1, 2)  # Master.csv only

    assert "TELECRM_SECRET_KEY" not in _rejects_text(client, admin)
    skipped = db_session.scalars(
        select(CdrReject).where(CdrReject.file_name == str(folder / "Master-2.csv"))
    ).one()
    assert "outside TELECRM_CDR_SOURCE_ROOTS" in skipped.reason and skipped.raw == ""


def test_a_fetch_refuses_a_folder_that_became_a_link_out_of_the_root(
    client: TestClient,
    db_session: Session,
    roots: Path,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    admin = auth_headers(Role.ADMIN)
    folder = roots / "cdr-csv"
    assert (
        client.post("/api/cdr-sources", json=_directory(folder), headers=admin).status_code == 201
    )
    (folder / "Master.csv").unlink()
    folder.rmdir()
    folder.symlink_to(roots.parent / "outside")

    response = _fetch(client, admin, "pbx-files")
    assert response.status_code == 502, response.text
    assert "TELECRM_CDR_SOURCE_ROOTS" in response.json()["error"]
    assert "TELECRM_SECRET_KEY" not in _rejects_text(client, admin)
    assert db_session.scalars(select(CdrReject)).all() == []


def test_a_source_stored_before_the_roots_existed_is_not_read(
    client: TestClient,
    db_session: Session,
    roots: Path,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    db_session.add(
        CdrSource(
            name="old-files",
            type="directory",
            params={"path": "/proc/self", "format": "asterisk-csv", "pattern": "environ"},
        )
    )
    admin = auth_headers(Role.ADMIN)
    response = _fetch(client, admin, "old-files")
    assert response.status_code == 502, response.text
    assert "outside TELECRM_CDR_SOURCE_ROOTS" in response.json()["error"]
    assert db_session.scalars(select(CdrReject).where(CdrReject.source == "old-files")).all() == []


def test_a_reject_keeps_at_most_one_capped_line(
    client: TestClient,
    db_session: Session,
    roots: Path,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    admin = auth_headers(Role.ADMIN)
    folder = roots / "cdr-csv"
    # one "line" of a megabyte with NULs in it, as /proc/self/environ is
    (folder / "huge.csv").write_bytes(b"A=1\x00" * 250_000 + b"\n" + BAD_LINE.encode())
    assert (
        client.post("/api/cdr-sources", json=_directory(folder), headers=admin).status_code == 201
    )
    response = _fetch(client, admin, "pbx-files")
    assert response.status_code == 200, response.text

    rejects = db_session.scalars(
        select(CdrReject).where(CdrReject.file_name == str(folder / "huge.csv"))
    ).all()
    assert sorted(r.line_number for r in rejects) == [1, 2]
    for reject in rejects:
        assert "\n" not in reject.raw and "\x00" not in reject.raw
        assert len(reject.raw) <= 4096
    huge = next(r.raw for r in rejects if r.line_number == 1)
    assert huge.startswith("A=1\\x00A=1") and huge.endswith("[cut: 1000000 characters in all]")
    assert {r.raw for r in rejects if r.line_number == 2} == {BAD_LINE.strip()}


# --- database sources ------------------------------------------------------------

DB_PASSWORD = "s3cret-pbx-password"


def _db_source(port: int = 5432, **params: Any) -> dict[str, Any]:
    return {
        "name": "pbx-db",
        "type": "asterisk_db",
        "params": {
            "dialect": "postgresql",
            "host": "127.0.0.1",
            "port": port,
            "database": "asterisk",
            "username": "telecrm",
            **params,
        },
        "password": DB_PASSWORD,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"host": "pbx.attacker.example"},
        {"port": 6543},
        {"database": "other"},
        {"username": "postgres"},
        {"dialect": "mysql"},
        {"sslmode": "disable"},
    ],
)
def test_changing_where_a_database_source_connects_drops_its_password(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], change: dict[str, Any]
) -> None:
    admin, billing = auth_headers(Role.ADMIN), auth_headers(Role.BILLING)
    created = client.post("/api/cdr-sources", json=_db_source(), headers=admin).json()
    path = f"/api/cdr-sources/{created['id']}"
    params = created["params"] | change

    moved = client.patch(path, json={"params": params}, headers=billing)
    assert moved.status_code == 200, moved.text
    assert moved.json()["has_password"] is False

    again = client.patch(path, json={"params": params, "password": "new-one"}, headers=billing)
    assert again.json()["has_password"] is True


def test_a_change_that_keeps_the_connection_keeps_the_password(
    client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin, billing = auth_headers(Role.ADMIN), auth_headers(Role.BILLING)
    created = client.post("/api/cdr-sources", json=_db_source(), headers=admin).json()
    params = created["params"] | {"table": "cdr_2025", "timezone": "Asia/Jakarta"}
    kept = client.patch(
        f"/api/cdr-sources/{created['id']}",
        json={"params": params, "enabled": False},
        headers=billing,
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["has_password"] is True


@pytest.mark.parametrize("role", [Role.SALES, Role.VIEWER])
def test_who_may_not_create_a_database_source_may_not_change_it(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], role: Role
) -> None:
    created = client.post("/api/cdr-sources", json=_db_source(), headers=auth_headers(Role.ADMIN))
    headers = auth_headers(role)
    assert client.post("/api/cdr-sources", json=_db_source(), headers=headers).status_code == 403
    moved = client.patch(
        f"/api/cdr-sources/{created.json()['id']}",
        json={"params": created.json()["params"] | {"host": "10.9.9.9"}},
        headers=headers,
    )
    assert moved.status_code == 403


def test_a_stored_password_is_not_sent_where_a_later_change_points(
    app: FastAPI,
    client: TestClient,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    app.state.settings = settings.model_copy(update={"cdr_fetch_max_attempts": 1})
    admin, billing = auth_headers(Role.ADMIN), auth_headers(Role.BILLING)
    created = client.post("/api/cdr-sources", json=_db_source(), headers=admin)
    assert created.status_code == 201, created.text

    with password_trap() as trap:
        moved = client.patch(
            f"/api/cdr-sources/{created.json()['id']}",
            json={"params": created.json()["params"] | {"port": trap.port}},
            headers=billing,
        )
        assert moved.status_code == 200, moved.text
        fetched = _fetch(client, billing, "pbx-db")

    assert fetched.status_code == 502, fetched.text
    assert trap.connections == 1  # the fetch did go there
    assert not trap.saw(DB_PASSWORD)


def test_a_source_that_requires_tls_is_refused_once_by_a_server_without_it(
    app: FastAPI,
    client: TestClient,
    db_session: Session,
    settings: Settings,
    auth_headers: Callable[..., dict[str, str]],
) -> None:
    app.state.settings = settings.model_copy(update={"cdr_fetch_max_attempts": 3})
    billing = auth_headers(Role.BILLING)
    source = _db_source(database="postgres", username="postgres", sslmode="verify-full")
    created = client.post("/api/cdr-sources", json=source, headers=billing)
    assert created.status_code == 201, created.text

    fetched = _fetch(client, billing, "pbx-db")
    assert fetched.status_code == 502, fetched.text
    assert (
        "no TLS connection to the CDR database that sslmode=verify-full accepts"
        in (fetched.json()["error"])
    )
    assert "server does not support SSL" in fetched.json()["error"]
    runs = client.get(f"/api/cdr-sources/{created.json()['id']}/runs", headers=billing).json()
    assert [(run["status"], run["attempts"]) for run in runs] == [("failed", 1)]  # not retried


@pytest.mark.parametrize("host", ["/var/run/postgresql", "127.0.0.1,/tmp", "pbx host=x"])
def test_a_database_host_is_one_network_host_never_a_socket_or_a_list(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], host: str
) -> None:
    response = client.post(
        "/api/cdr-sources", json=_db_source(host=host), headers=auth_headers(Role.BILLING)
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == ["params.host"]


def test_a_stored_source_naming_a_unix_socket_is_not_connected_to(
    client: TestClient, db_session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    with pbx_database("postgresql", "ast-db-manage") as pbx:
        with pbx.engine.connect() as connection:
            sockets = connection.exec_driver_sql("SHOW unix_socket_directories").scalar_one()
        pbx.insert(call(dt.datetime(2025, 11, 5, 9, 0), "u.1"))
        # as a source set up before hosts were checked: telecrm's own OS user, over the
        # socket, where a password is not asked for
        db_session.add(
            CdrSource(
                name="pbx-db",
                type="asterisk_db",
                params=pbx.params | {"host": str(sockets).split(",")[0].strip()},
            )
        )
        fetched = _fetch(client, auth_headers(Role.BILLING), "pbx-db")
    assert fetched.status_code == 502, fetched.text
    assert "params.host" in fetched.json()["error"]
    assert db_session.scalars(select(Cdr).where(Cdr.source == "pbx-db")).all() == []
