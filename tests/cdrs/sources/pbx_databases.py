"""Scratch Asterisk CDR databases on the machine's PostgreSQL and MariaDB: each test
gets its own database (unique name, so parallel runs never meet) with a real ``cdr``
table, dropped afterwards."""

from __future__ import annotations

import datetime as dt
import os
import socket
import struct
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


# PostgreSQL's wire protocol, as much of it as a server that steals passwords needs.
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_AUTH_CLEARTEXT = struct.pack("!cII", b"R", 8, 3)
_AUTH_FAILED = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"


@dataclass
class PasswordTrap:
    """What a listener on 127.0.0.1 was sent: every byte of every connection."""

    port: int
    connections: int = 0
    received: bytearray = field(default_factory=bytearray)
    tls_requests: int = 0
    offers_tls: bool = False

    def saw(self, secret: str) -> bool:
        return secret.encode() in self.received


def _read_exactly(connection: socket.socket, size: int, trap: PasswordTrap) -> bytes:
    data = b""
    while len(data) < size:
        block = connection.recv(size - len(data))
        if not block:
            raise ConnectionError("the client hung up")
        data += block
    trap.received.extend(data)
    return data


def _serve_one(connection: socket.socket, trap: PasswordTrap) -> None:
    with connection:
        connection.settimeout(5)
        try:
            while True:  # TLS and GSS encryption requests first: refused ("N")
                (length,) = struct.unpack("!I", _read_exactly(connection, 4, trap))
                body = _read_exactly(connection, length - 4, trap)
                (code,) = struct.unpack("!I", body[:4])
                if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                    break
                trap.tls_requests += code == _SSL_REQUEST
                if code == _SSL_REQUEST and trap.offers_tls:
                    connection.sendall(b"S")  # and then no TLS handshake that could pass
                    _read_exactly(connection, 1, trap)
                connection.sendall(b"N")
            connection.sendall(_AUTH_CLEARTEXT)  # "send me your password as it is"
            _read_exactly(connection, 1, trap)
            (length,) = struct.unpack("!I", _read_exactly(connection, 4, trap))
            _read_exactly(connection, length - 4, trap)
            connection.sendall(b"E" + struct.pack("!I", len(_AUTH_FAILED) + 4) + _AUTH_FAILED)
        except (OSError, ConnectionError):
            pass  # the client gave up: what it sent is kept


@contextmanager
def password_trap(offers_tls: bool = False) -> Iterator[PasswordTrap]:
    """A PostgreSQL server as someone who wants a stored password would run one: no
    TLS, and it asks the client for the password in clear text
    (AuthenticationCleartextPassword), which libpq sends unless told not to.
    ``offers_tls``: it says yes to TLS, then never completes a handshake."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    trap = PasswordTrap(port=listener.getsockname()[1], offers_tls=offers_tls)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            trap.connections += 1
            _serve_one(connection, trap)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield trap
    finally:
        stop.set()
        thread.join()
        listener.close()
