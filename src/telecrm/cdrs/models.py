from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, synonym

from telecrm.cdr_status.models import CdrState
from telecrm.db import (
    Base,
    BigIntegerPK,
    Money,
    TimestampMixin,
    UTCDateTime,
    enum_column_type,
    utcnow,
)
from telecrm.rating.types import RatingStatus

COST_SCALE = 6  # RATING.md §4: a call's cost is rounded once, to 6 decimal places


def _where_set(*columns: str) -> Index:
    """An index of the rows where the first column is not null (on both databases)."""
    condition = text(f"{columns[0]} IS NOT NULL")
    return Index(
        f"ix_cdrs_{'_'.join(columns)}",
        *columns,
        postgresql_where=condition,
        sqlite_where=condition,
    )


class Cdr(TimestampMixin, Base):
    """One call. Seed 004's Asterisk fields and seed 000's names in one table:
    ``calldate``/``start_time``, ``src``/``caller`` and ``dst``/``callee`` are the
    same columns (the seed names are ORM synonyms). Times are UTC instants.

    ``unique_key`` identifies the call whatever file or source it came from, so that
    importing it twice stores it once. The rating columns explain its cost.
    """

    __tablename__ = "cdrs"
    __table_args__ = (
        CheckConstraint("duration >= 0", name="duration_not_negative"),
        CheckConstraint("billsec >= 0", name="billsec_not_negative"),
        # the known statuses (telecrm.cdr_status): a CHECK, not a foreign key, which
        # would be looked up for every imported row (migration 0006)
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{state.value}'" for state in CdrState)),
            name="status_known",
        ),
        # Every index is paid for by each imported and each rated call (a rating
        # rewrites the row, so every index whose condition holds gets a new entry):
        # only those a query needs are kept, and a column that is empty until billing
        # sets it is indexed only where set. (bench/README.md has the figures.)
        _where_set("contract_id", "start_time"),
        _where_set("rate_id"),
        _where_set("invoice_id"),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    unique_key: Mapped[str] = mapped_column(String(64), unique=True)
    call_id: Mapped[str | None] = mapped_column(String(150))
    source: Mapped[str | None] = mapped_column(String(100))
    # The import that stored the call. Not a foreign key on purpose: checking one for
    # every imported row costs the import about a fifth of its time (bench/README.md),
    # and imports are never deleted.
    import_id: Mapped[int | None] = mapped_column(Integer)

    # the call, as the PBX wrote it
    accountcode: Mapped[str] = mapped_column(String(80), default="")
    src: Mapped[str] = mapped_column(String(80), default="")
    dst: Mapped[str] = mapped_column(String(120), default="")
    clid: Mapped[str | None] = mapped_column(String(160))
    dcontext: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(160))
    dstchannel: Mapped[str | None] = mapped_column(String(160))
    lastapp: Mapped[str | None] = mapped_column(String(80))
    lastdata: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    answer_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[int] = mapped_column(Integer)
    billsec: Mapped[int] = mapped_column(Integer)
    disposition: Mapped[str] = mapped_column(String(20))
    amaflags: Mapped[str | None] = mapped_column(String(20))
    userfield: Mapped[str | None] = mapped_column(String(255))
    peeraccount: Mapped[str | None] = mapped_column(String(80))
    linkedid: Mapped[str | None] = mapped_column(String(150))
    sequence: Mapped[int | None] = mapped_column(BigInteger)

    # seed 000's lifecycle
    status: Mapped[str] = mapped_column(String(20), default=CdrState.NEW.value)
    sync_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    # CDR management (telecrm.cdr_status, telecrm.call_sync): every reason a CDR is
    # invalid, and where it stands with the CRM.
    validation_errors: Mapped[list[str] | None] = mapped_column(JSON)
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sync_message: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    crm_call_id: Mapped[str | None] = mapped_column(String(64))

    # rating (RATING.md): what the cost is and how it was found
    rating_status: Mapped[RatingStatus] = mapped_column(
        enum_column_type(RatingStatus, "rating_status"), default=RatingStatus.PENDING
    )
    rating_reason: Mapped[str | None] = mapped_column(String(30))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    cleaned_number: Mapped[str | None] = mapped_column(String(120))
    matched_prefix: Mapped[str | None] = mapped_column(String(40))
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("rates.id", ondelete="RESTRICT"))
    billable_seconds: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Money(scale=COST_SCALE))
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))

    calldate = synonym("start_time")
    caller = synonym("src")
    callee = synonym("dst")


class CdrImport(Base):
    """One run of an import over one file: what was read and where it stopped, so a
    crashed import can be resumed and a file already imported is recognised."""

    __tablename__ = "cdr_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="running")
    lines_read: Mapped[int] = mapped_column(BigInteger, default=0)
    # where the next batch starts: a re-run of a crashed import continues from here
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CdrReject(Base):
    """A row that could not be imported, kept with where it came from and why."""

    __tablename__ = "cdr_rejects"

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("cdr_imports.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str | None] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(1000))
    line_number: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
