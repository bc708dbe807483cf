from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from telecrm.cdrs.sources.asterisk_db import AsteriskCdrDatabase, AsteriskDbParams, SourceRefused
from tests.cdrs.sources.pbx_databases import call, password_trap, pbx_database
from tests.loopback import dropping_server

JAKARTA = "Asia/Jakarta"
LOCAL = dt.datetime(2025, 11, 5, 16, 0)  # 09:00 UTC


def _reader(params: dict[str, object], **overrides: object) -> AsteriskCdrDatabase:
    values = {**params, "password": "", "timezone": JAKARTA, **overrides}
    return AsteriskCdrDatabase(AsteriskDbParams(**values), connect_timeout=2)  # type: ignore[arg-type]


def _read(reader: AsteriskCdrDatabase, start: dt.datetime | None, end: dt.datetime | None) -> list:
    try:
        return [row for chunk in reader.rows(start, end, chunk=2) for row in chunk]
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("dialect", "layout"),
    [("postgresql", "classic"), ("postgresql", "ast-db-manage"), ("mysql", "ast-db-manage")],
)
def test_reads_a_window_of_calls_in_utc(dialect: str, layout: str) -> None:
    with pbx_database(dialect, layout) as pbx:
        pbx.insert(
            call(LOCAL - dt.timedelta(minutes=1), "1762333140.1"),
            call(LOCAL, "1762333200.2", dst="0215550101"),
            call(LOCAL + dt.timedelta(minutes=30), "1762335000.3", disposition="BUSY", billsec=0),
            call(LOCAL + dt.timedelta(hours=1), "1762336800.4"),
        )
        start = dt.datetime(2025, 11, 5, 9, 0, tzinfo=dt.UTC)
        rows = _read(_reader(pbx.params), start, start + dt.timedelta(hours=1))

    assert [row["uniqueid"] for row in rows] == ["1762333200.2", "1762335000.3"]
    first = rows[0]
    assert first["start"] == dt.datetime(2025, 11, 5, 9, 0, tzinfo=dt.UTC)
    assert first["dst"] == "0215550101"
    assert (first["duration"], first["billsec"], first["disposition"]) == (66, 61, "ANSWERED")
    assert rows[1]["disposition"] == "BUSY"
    assert first["accountcode"] == "ACC100" and first["clid"] == '"Budi" <1001>'
    if layout == "classic":
        assert first["answer"] is None and first["amaflags"] == "DOCUMENTATION"
    else:
        assert first["answer"] == dt.datetime(2025, 11, 5, 9, 0, 5, tzinfo=dt.UTC)
        assert first["end"] == dt.datetime(2025, 11, 5, 9, 1, 6, tzinfo=dt.UTC)
        assert first["linkedid"] == "1762333200.2"


def test_numeric_dispositions_of_cdr_pgsql_are_read_as_names() -> None:
    with pbx_database("postgresql", "classic") as pbx:
        with pbx.engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE cdr ALTER COLUMN disposition DROP DEFAULT")
            connection.exec_driver_sql(
                "ALTER TABLE cdr ALTER COLUMN disposition TYPE integer USING 0"
            )
        pbx.insert(
            call(LOCAL, "a.1", disposition=8),
            call(LOCAL, "a.2", disposition=4, billsec=0),
            call(LOCAL, "a.3", disposition=0, billsec=0),
            call(LOCAL, "a.4", disposition=16, billsec=0),
        )
        rows = _read(_reader(pbx.params), None, None)
    assert [row["disposition"] for row in rows] == ["ANSWERED", "BUSY", "NO ANSWER", "CONGESTION"]


def test_an_open_window_reads_everything_oldest_first() -> None:
    with pbx_database("mysql", "ast-db-manage") as pbx:
        pbx.insert(call(LOCAL, "b.2"), call(LOCAL - dt.timedelta(days=400), "b.1"))
        rows = _read(_reader(pbx.params), None, None)
    assert [row["uniqueid"] for row in rows] == ["b.1", "b.2"]


def test_a_missing_table_or_a_wrong_password_is_a_refusal_not_a_network_error() -> None:
    with (
        pbx_database("postgresql", "classic") as pbx,
        pytest.raises(SourceRefused, match="has no table 'cdr_2024'"),
    ):
        _read(_reader(pbx.params, table="cdr_2024"), None, None)
    with (
        pbx_database("mysql", "ast-db-manage") as pbx,
        pytest.raises(SourceRefused, match="refused us"),
    ):
        _read(_reader(pbx.params, username="nobody", password="wrong"), None, None)


def test_a_dropped_connection_is_a_network_error() -> None:
    with dropping_server() as server:
        params = {
            "dialect": "postgresql",
            "host": "127.0.0.1",
            "port": server.port,
            "database": "asterisk",
            "username": "asterisk",
            "table": "cdr",
        }
        with pytest.raises(OperationalError):
            _read(_reader(params), None, None)
    assert server.connections >= 1


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
@pytest.mark.parametrize("sslmode", ["require", "verify-ca", "verify-full"])
def test_a_server_without_tls_is_refused_when_tls_is_required(dialect: str, sslmode: str) -> None:
    # The machine's PostgreSQL and MariaDB offer no TLS (ssl = off, have_ssl = DISABLED).
    with pbx_database(dialect, "ast-db-manage") as pbx:
        pbx.insert(call(LOCAL, "t.1"))
        with pytest.raises(SourceRefused, match="TLS"):
            _read(_reader(pbx.params, sslmode=sslmode), None, None)
        assert [row["uniqueid"] for row in _read(_reader(pbx.params), None, None)] == ["t.1"]


def test_tls_required_sends_no_password_to_a_server_without_it() -> None:
    with password_trap() as trap:
        params = {
            "dialect": "postgresql",
            "host": "127.0.0.1",
            "port": trap.port,
            "database": "asterisk",
            "username": "asterisk",
            "table": "cdr",
        }
        with pytest.raises(SourceRefused, match="TLS"):
            _read(_reader(params, password="s3cret", sslmode="require"), None, None)
    assert (trap.connections, trap.tls_requests) == (1, 1)
    assert not trap.saw("s3cret") and not trap.saw("asterisk")  # not even the startup


def test_a_source_without_a_password_sends_none_of_the_servers_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq falls back to PGPASSWORD and ~/.pgpass (any host, with a wildcard entry)
    # when it is given no password: telecrm's own secrets, not the source's.
    passfile = tmp_path / "pgpass"
    passfile.write_text("*:*:*:*:from-the-pgpass-file\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    with password_trap() as trap:
        params = {
            "dialect": "postgresql",
            "host": "127.0.0.1",
            "port": trap.port,
            "database": "asterisk",
            "username": "asterisk",
            "table": "cdr",
        }
        with pytest.raises(OperationalError):
            _read(_reader(params, password=None), None, None)
    assert trap.connections == 1
    assert not trap.saw("from-the-environment") and not trap.saw("from-the-pgpass-file")


def test_a_certificate_that_cannot_be_checked_is_a_refusal_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGSSLROOTCERT", str(tmp_path / "no-such-root.crt"))
    with password_trap(offers_tls=True) as trap:
        params = {
            "dialect": "postgresql",
            "host": "127.0.0.1",
            "port": trap.port,
            "database": "asterisk",
            "username": "asterisk",
            "table": "cdr",
        }
        with pytest.raises(SourceRefused, match=r"sslmode=verify-ca.*root certificate"):
            _read(_reader(params, password="s3cret", sslmode="verify-ca"), None, None)
    assert trap.tls_requests == 1 and not trap.saw("s3cret")
