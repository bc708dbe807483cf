"""Reading Asterisk's CDR database: the ``cdr`` table that ``cdr_pgsql`` and
``cdr_adaptive_odbc`` write, on PostgreSQL or MySQL/MariaDB.

Two layouts exist in the wild and both are read: the classic one (``calldate``, the
call's start, and no answer/end columns) and the one of Asterisk's own
``ast-db-manage`` schema (``start``, ``answer``, ``end``, plus ``linkedid``,
``peeraccount``, ``sequence``). ``cdr_pgsql`` may also store ``disposition`` and
``amaflags`` as numbers (cdr.h's flags) when the columns are integers; they are read
back as Asterisk's names. Times without a zone are the PBX's local time.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import URL, Column, DateTime, MetaData, Table, create_engine, select
from sqlalchemy.exc import NoSuchTableError, OperationalError
from sqlalchemy.pool import NullPool

from telecrm.errors import SourceRefused

DIALECT_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}

# cdr.h: enum ast_cdr_disposition, and the AMA flags of channel.h.
DISPOSITION_NAMES = {
    0: "NO ANSWER",
    1: "NO ANSWER",
    2: "FAILED",
    4: "BUSY",
    8: "ANSWERED",
    16: "CONGESTION",
}
AMAFLAG_NAMES = {0: "", 1: "OMIT", 2: "BILLING", 3: "DOCUMENTATION"}

TEXT_COLUMNS = [
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
    "lastdata", "userfield", "uniqueid", "linkedid", "peeraccount",
]  # fmt: skip

# Errors that say the server will not have us, whatever the number of tries:
# PostgreSQL's SQLSTATE 28xxx (authentication), MySQL's 1044/1045/1049 (access, database).
_REFUSALS_SQLSTATE_PREFIX = "28"
_REFUSALS_MYSQL = {1044, 1045, 1049}
# libpq's sslmode values that refuse a server without TLS (before anything else,
# the password included, is sent to it); MySQL's "SSL connection error" (pymysql's
# own, when the server offers no TLS) is their refusal there.
TLS_REQUIRED = {"require", "verify-ca", "verify-full"}
_MYSQL_TLS_ERROR = 2026
# A password file that is never there (libpq warns about one that is not a plain file,
# such as /dev/null, and says nothing of one that does not exist).
NO_PASSFILE = "/nonexistent/telecrm-reads-no-pgpass"


@dataclass(frozen=True)
class AsteriskDbParams:
    dialect: str
    host: str
    port: int
    database: str
    username: str
    password: str | None
    table: str
    timezone: str
    sslmode: str = "prefer"

    def url(self) -> URL:
        return URL.create(
            DIALECT_DRIVERS[self.dialect],
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
        )


def _mysql_tls(sslmode: str) -> dict[str, Any]:
    """pymysql's TLS options for a libpq sslmode. Given an SSL context, pymysql
    refuses a server that does not offer TLS; without one it uses TLS when offered."""
    if sslmode == "disable":
        return {"ssl_disabled": True}
    if sslmode not in TLS_REQUIRED:
        return {}
    context = ssl.create_default_context()  # the system's CAs
    if sslmode != "verify-full":
        context.check_hostname = False
    if sslmode == "require":
        context.verify_mode = ssl.CERT_NONE
    return {"ssl": context}


def _tls_refusal(error: OperationalError, sslmode: str) -> bool:
    if sslmode not in TLS_REQUIRED:
        return False
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    text = str(error.orig)
    return (bool(args) and args[0] == _MYSQL_TLS_ERROR) or "SSL" in text or "certificate" in text


def _refusal(error: OperationalError) -> bool:
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_REFUSALS_SQLSTATE_PREFIX):
        return True
    args: tuple[Any, ...] = getattr(original, "args", ())
    return bool(args) and args[0] in _REFUSALS_MYSQL


class AsteriskCdrDatabase:
    """One connection per read (no pool kept between runs: the PBX's database is not
    ours to hold connections open on)."""

    def __init__(self, params: AsteriskDbParams, connect_timeout: float) -> None:
        self.params = params
        self.zone = ZoneInfo(params.timezone)
        connect_args: dict[str, Any] = (
            {
                "connect_timeout": max(1, int(connect_timeout)),
                "sslmode": params.sslmode,
                # Given no password, libpq would send PGPASSWORD or a ~/.pgpass entry:
                # this server's secrets, to whatever host the source names.
                "password": params.password or "",
                "passfile": NO_PASSFILE,
            }
            if params.dialect == "postgresql"
            else {
                "connect_timeout": max(1, int(connect_timeout)),
                "read_timeout": 300,
                **_mysql_tls(params.sslmode),
            }
        )
        self.engine = create_engine(params.url(), poolclass=NullPool, connect_args=connect_args)

    def close(self) -> None:
        self.engine.dispose()

    def rows(
        self, start: dt.datetime | None, end: dt.datetime | None, chunk: int = 5000
    ) -> Iterator[list[dict[str, Any]]]:
        """The calls that started in ``[start, end)`` (open where None), oldest first,
        ``chunk`` at a time, as dicts with Asterisk's field names and UTC times
        (``start``, ``answer``, ``end``)."""
        try:
            with self.engine.connect() as connection:
                table = self._table(connection)
                time_column = table.c["calldate"] if "calldate" in table.c else table.c["start"]
                query = select(table).order_by(time_column)
                if start is not None:
                    query = query.where(time_column >= self._bound(time_column, start))
                if end is not None:
                    query = query.where(time_column < self._bound(time_column, end))
                result = connection.execution_options(stream_results=True, yield_per=chunk).execute(
                    query
                )
                for partition in result.mappings().partitions():
                    yield [self._row(row, time_column.name) for row in partition]
        except OperationalError as exc:
            if _tls_refusal(exc, self.params.sslmode):
                raise SourceRefused(
                    f"no TLS connection to the CDR database that sslmode="
                    f"{self.params.sslmode} accepts, so nothing was sent to it: "
                    f"{_first_line(exc)}"
                ) from exc
            if _refusal(exc):
                raise SourceRefused(f"the CDR database refused us: {_first_line(exc)}") from exc
            raise

    def _table(self, connection: Any) -> Table:
        try:
            table = Table(self.params.table, MetaData(), autoload_with=connection)
        except NoSuchTableError as exc:
            raise SourceRefused(
                f"the CDR database {self.params.database} has no table {self.params.table!r}"
            ) from exc
        if "calldate" not in table.c and "start" not in table.c:
            raise SourceRefused(
                f"table {self.params.table!r} is not an Asterisk CDR table: "
                "it has neither a calldate nor a start column"
            )
        return table

    def _bound(self, column: Column[Any], instant: dt.datetime) -> dt.datetime:
        if isinstance(column.type, DateTime) and column.type.timezone:
            return instant
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def _time(self, value: Any) -> dt.datetime | None:
        if not isinstance(value, dt.datetime):
            return None  # NULL, or MySQL's zero date for "never answered"
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        return value.astimezone(dt.UTC)

    def _row(self, row: Any, time_column: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: ("" if row.get(name) is None else str(row.get(name)))
            for name in TEXT_COLUMNS
            if name in row
        }
        values["start"] = self._time(row[time_column])
        values["answer"] = self._time(row.get("answer"))
        values["end"] = self._time(row.get("end"))
        values["duration"] = _seconds(row.get("duration"))
        values["billsec"] = _seconds(row.get("billsec"))
        disposition = row.get("disposition")
        values["disposition"] = (
            DISPOSITION_NAMES.get(disposition, str(disposition))
            if isinstance(disposition, int)
            else (disposition or "")
        )
        amaflags = row.get("amaflags")
        values["amaflags"] = (
            AMAFLAG_NAMES.get(amaflags, str(amaflags)) if isinstance(amaflags, int) else amaflags
        )
        sequence = row.get("sequence")
        values["sequence"] = int(sequence) if sequence is not None else None
        return values


def _seconds(value: Any) -> int | None:
    return None if value is None else int(value)


def _first_line(error: OperationalError) -> str:
    lines = str(error.orig).strip().splitlines()
    return lines[0] if lines else type(error.orig).__name__
