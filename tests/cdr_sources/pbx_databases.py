"""Scratch Asterisk CDR databases on the machine's PostgreSQL and MariaDB: each test
gets its own database (unique name, so parallel runs never meet) with a real ``cdr``
table, dropped afterwards."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.pool import NullPool

SERVERS = {
    "postgresql": URL.create(
        "postgresql+psycopg", username="postgres", host="127.0.0.1", port=5432, database="postgres"
    ),
    "mysql": URL.create(
        "mysql+pymysql", username="root", password="", host="127.0.0.1", port=3306, database="test"
    ),
}

# cdr_pgsql's classic table (calldate, numeric amaflags), as the contrib schema has it.
CLASSIC_POSTGRESQL = """
CREATE TABLE cdr (
    calldate timestamp NOT NULL DEFAULT now(),
    clid varchar(80) NOT NULL DEFAULT '', src varchar(80) NOT NULL DEFAULT '',
    dst varchar(80) NOT NULL DEFAULT '', dcontext varchar(80) NOT NULL DEFAULT '',
    channel varchar(80) NOT NULL DEFAULT '', dstchannel varchar(80) NOT NULL DEFAULT '',
    lastapp varchar(80) NOT NULL DEFAULT '', lastdata varchar(80) NOT NULL DEFAULT '',
    duration integer NOT NULL DEFAULT 0, billsec integer NOT NULL DEFAULT 0,
    disposition varchar(45) NOT NULL DEFAULT '', amaflags integer NOT NULL DEFAULT 0,
    accountcode varchar(20) NOT NULL DEFAULT '', uniqueid varchar(150) NOT NULL DEFAULT '',
    userfield varchar(255) NOT NULL DEFAULT ''
)"""

# Asterisk's ast-db-manage schema, which cdr_adaptive_odbc writes (start/answer/end).
AST_DB_MANAGE_MYSQL = """
CREATE TABLE cdr (
    accountcode varchar(20), src varchar(80), dst varchar(80), dcontext varchar(80),
    clid varchar(80), channel varchar(80), dstchannel varchar(80), lastapp varchar(80),
    lastdata varchar(80), `start` datetime, answer datetime, `end` datetime,
    duration integer, billsec integer, disposition varchar(45), amaflags varchar(45),
    userfield varchar(256), uniqueid varchar(150), linkedid varchar(150),
    peeraccount varchar(20), sequence integer
)"""


@dataclass
class PbxDatabase:
    dialect: str
    database: str
    engine: Engine
    layout: str

    @property
    def params(self) -> dict[str, Any]:
        server = SERVERS[self.dialect]
        return {
            "dialect": self.dialect,
            "host": server.host,
            "port": server.port,
            "database": self.database,
            "username": server.username,
            "table": "cdr",
        }

    def insert(self, *calls: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            for call in calls:
                row = dict(call)
                if self.layout == "classic":
                    row["calldate"] = row.pop("start")
                    row.pop("answer", None)
                    row.pop("end", None)
                    row.pop("linkedid", None)
                columns = ", ".join(_quote(self.dialect, name) for name in row)
                values = ", ".join(f":{name}" for name in row)
                connection.execute(text(f"INSERT INTO cdr ({columns}) VALUES ({values})"), row)


def _quote(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


@contextmanager
def pbx_database(dialect: str, layout: str) -> Iterator[PbxDatabase]:
    name = f"asterisk_cdr_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVERS[dialect], poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine = create_engine(SERVERS[dialect].set(database=name), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if layout == "classic":
                connection.execute(text(CLASSIC_POSTGRESQL))
            else:
                schema = AST_DB_MANAGE_MYSQL
                if dialect == "postgresql":
                    schema = schema.replace("`", '"').replace("datetime", "timestamp")
                connection.execute(text(schema))
        yield PbxDatabase(dialect, name, engine, layout)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            force = " WITH (FORCE)" if dialect == "postgresql" else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def call(start: dt.datetime, uniqueid: str, **fields: Any) -> dict[str, Any]:
    """A call as Asterisk writes it: local (naive) times, answered after 5 s."""
    billsec = fields.pop("billsec", 61)
    row = {
        "accountcode": "ACC100",
        "src": "1001",
        "dst": "08123456789",
        "dcontext": "from-internal",
        "clid": '"Budi" <1001>',
        "channel": "PJSIP/1001-00000001",
        "dstchannel": "PJSIP/trunk-00000002",
        "lastapp": "Dial",
        "lastdata": "PJSIP/08123456789@trunk,60",
        "start": start,
        "answer": start + dt.timedelta(seconds=5),
        "end": start + dt.timedelta(seconds=5 + billsec),
        "duration": 5 + billsec,
        "billsec": billsec,
        "disposition": "ANSWERED",
        "amaflags": 3,
        "uniqueid": uniqueid,
        "userfield": "",
        "linkedid": uniqueid,
    }
    row.update(fields)
    return row
