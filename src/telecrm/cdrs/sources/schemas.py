from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from telecrm.cdrs.formats import FileFormat
from telecrm.cdrs.schemas import CdrRead
from telecrm.cdrs.sources.directory import pattern_problem
from telecrm.cdrs.sources.models import CdrSourceType, FetchRunStatus

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(
        default=None,
        description="What the source's times without a zone mean (IANA name); "
        "default: the billing time zone.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (use an IANA name)") from exc
        return name


class DirectoryParams(_Params):
    path: str = Field(
        description="The folder the PBX writes its CDR files to: absolute, and below one "
        "of TELECRM_CDR_SOURCE_ROOTS once symlinks are resolved."
    )
    format: FileFormat
    pattern: str = Field(
        default="*", description="Which files: a file name glob (Master*.csv), never a path."
    )

    @field_validator("pattern")
    @classmethod
    def _file_name_glob(cls, pattern: str) -> str:
        problem = pattern_problem(pattern)
        if problem:
            raise ValueError(problem)
        return pattern


class AsteriskDbParams(_Params):
    dialect: Literal["postgresql", "mysql"] = Field(description="mysql also means MariaDB.")
    host: str = Field(description="A host name or an IP address (not a socket, not a list).")
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str
    username: str
    table: str = Field(default="cdr", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    sslmode: SslMode = Field(
        default="prefer",
        description="TLS to the database, as libpq's sslmode: require, verify-ca and "
        "verify-full refuse a server without TLS. verify-*: PostgreSQL against libpq's "
        "root certificate (~/.postgresql/root.crt or PGSSLROOTCERT), MySQL/MariaDB "
        "against the system's CAs.",
    )

    @field_validator("host")
    @classmethod
    def _network_host(cls, host: str) -> str:
        # libpq reads "/dir" as a Unix socket (peer authentication as telecrm's own OS
        # user) and "a,b" as a list of hosts: only one host on the network is taken.
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not HOST_NAME.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name or an IP address") from None
        return host


class PushParams(_Params):
    pass


PARAMS_MODELS: dict[CdrSourceType, type[_Params]] = {
    CdrSourceType.DIRECTORY: DirectoryParams,
    CdrSourceType.ASTERISK_DB: AsteriskDbParams,
    CdrSourceType.PUSH: PushParams,
}


class CdrSourceCreate(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    type: CdrSourceType
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict, description="As the type needs.")
    password: SecretStr | None = Field(
        default=None, description="Database password: stored encrypted, never returned."
    )


class CdrSourceUpdate(BaseModel):
    enabled: bool | None = None
    params: dict[str, Any] | None = Field(
        default=None, description="Replaces the parameters (all of them)."
    )
    password: SecretStr | None = Field(
        default=None, description="A new password; an empty string removes it."
    )


class CdrSourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: CdrSourceType
    enabled: bool
    params: dict[str, Any]
    has_password: bool
    watermark: dt.datetime | None
    last_fetch_at: dt.datetime | None
    last_fetch_status: str | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FetchRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: int
    trigger: str
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    status: FetchRunStatus
    attempts: int
    files: int
    rows_read: int
    imported: int
    duplicates: int
    rejected: int
    invalid: int
    error: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class ManagedCdrRead(CdrRead):
    """A call with what CDR management knows of it: why it is invalid, and where it
    stands with the CRM."""

    validation_errors: list[str] | None
    sync_attempts: int
    sync_message: str | None
    synced_at: dt.datetime | None
    crm_call_id: str | None


class FetchResult(BaseModel):
    run: FetchRunRead
    items: list[ManagedCdrRead] = Field(
        description="The window's CDRs of this source, oldest first."
    )
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class PushAccepted(BaseModel):
    """A post staged: committed, and imported by the next drain (within
    TELECRM_PUSH_DRAIN_SECONDS on a server that drains)."""

    status: Literal["accepted"] = "accepted"
    staged_id: int = Field(description="The post's id while it waits to be imported.")
    calls: int = Field(description="The calls it holds.")
