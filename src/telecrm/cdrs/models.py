from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, NoReturn, TypeVar, overload
from typing import cast as cast_type

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    cast,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym
from sqlalchemy.sql.elements import ColumnElement, TextClause

from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.db import (
    Base,
    BigIntegerPK,
    Money,
    TimestampMixin,
    UTCDateTime,
    enum_column_type,
    utcnow,
)
from telecrm.money import COST_SCALE
from telecrm.rating.types import RatingStatus

# What ``cdrs.status`` holds: validation's outcome. Rated, unrated and invoiced are
# read from the call's rating (``Cdr.lifecycle_status``): rating a month never
# rewrites the calls themselves.
STORED_STATES = (CdrState.NEW, CdrState.VALID, CdrState.INVALID)
# The rows of the index of rated calls on no invoice. A query that means to use it
# says this literally (``unbilled()``): the planners cannot match a bound parameter.
UNBILLED = "rating_status = 'rated' AND invoice_id IS NULL"


def unbilled() -> TextClause:
    return text("cdr_ratings.rating_status = 'rated' AND cdr_ratings.invoice_id IS NULL")


def _where_set(*columns: str, table: str = "cdrs") -> Index:
    """An index of the rows where the first column is not null (on both databases)."""
    condition = text(f"{columns[0]} IS NOT NULL")
    return Index(
        f"ix_{table}_{'_'.join(columns)}",
        *columns,
        postgresql_where=condition,
        sqlite_where=condition,
    )


T = TypeVar("T")


class _FromRating(Generic[T]):
    """A field of a call's rating, read through the call (``cdr.cost``): ``default``
    while the call has no rating. Not a column of ``cdrs``: used in a query
    (``Cdr.cost``), it says so instead of comparing a Python object to the value."""

    def __init__(self, default: T | None = None) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, call: None, owner: type) -> NoReturn: ...

    @overload
    def __get__(self, call: Cdr, owner: type) -> T: ...

    def __get__(self, call: Cdr | None, owner: type) -> T:
        if call is None:
            raise AttributeError(
                f"Cdr.{self.name} is a field of the call's rating: query CdrRating.{self.name}"
            )
        rating = call.rating
        return cast_type(T, self.default if rating is None else getattr(rating, self.name))


class _RatingStatusOf(_FromRating[RatingStatus | None]):
    """``pending`` while billing will rate the call; none for an invalid call without
    a rating, which nothing rates until it is corrected (it is never shown pending)."""

    def __init__(self) -> None:
        super().__init__(RatingStatus.PENDING)

    @overload
    def __get__(self, call: None, owner: type) -> NoReturn: ...

    @overload
    def __get__(self, call: Cdr, owner: type) -> RatingStatus | None: ...

    def __get__(self, call: Cdr | None, owner: type) -> RatingStatus | None:
        if call is not None and call.rating is None and call.status == CdrState.INVALID.value:
            return None
        return super().__get__(call, owner)


class Cdr(TimestampMixin, Base):
    """One call. Seed 004's Asterisk fields and seed 000's names in one table:
    ``calldate``/``start_time``, ``src``/``caller`` and ``dst``/``callee`` are the
    same columns (the seed names are ORM synonyms). Times are UTC instants.

    ``unique_key`` identifies the call whatever file or source it came from, so that
    importing it twice stores it once. Its rating (``CdrRating``) explains its cost.

    On PostgreSQL the table is partitioned by month on ``start_time`` (migration
    0014, ``cdrs/partitions``): its primary key there is ``(id, start_time)``, ids
    still drawn from one sequence.
    """

    __tablename__ = "cdrs"
    __table_args__ = (
        CheckConstraint("duration >= 0", name="duration_not_negative"),
        CheckConstraint("billsec >= 0", name="billsec_not_negative"),
        # the known statuses (telecrm.cdrs.lifecycle): a CHECK, not a foreign key, which
        # would be looked up for every imported row (migration 0006); written with OR,
        # not IN, which SQLite evaluates by building a table for every row (3.7 s of a
        # million-row import)
        CheckConstraint(
            " OR ".join(f"status = '{state.value}'" for state in STORED_STATES),
            name="status_known",
        ),
        # Every index is paid for by each imported call: only those a query needs.
        # Each call is stored once: on SQLite by its key; on PostgreSQL, where a unique
        # constraint of the partitioned table must hold the partition key, by its key
        # and start (migration 0014; the import looks for the key under another zone).
        UniqueConstraint("unique_key", name="uq_cdrs_unique_key").ddl_if(dialect="sqlite"),
        UniqueConstraint("unique_key", "start_time").ddl_if(dialect="postgresql"),
        # The calls list by account, newest first (migration 0015).
        Index("ix_cdrs_accountcode_start_time", "accountcode", "start_time", "id"),
        # ... and by status new or invalid: the few calls not valid (yet)
        Index(
            "ix_cdrs_not_valid",
            "start_time",
            "id",
            postgresql_where=text("status <> 'valid'"),
            sqlite_where=text("status <> 'valid'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerPK, primary_key=True)
    unique_key: Mapped[str] = mapped_column(String(64))
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
    # CDR management (telecrm.cdrs.lifecycle, telecrm.cdrs.crm_sync): every reason a CDR is
    # invalid, and where it stands with the CRM.
    validation_errors: Mapped[list[str] | None] = mapped_column(JSON)
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # While a batch is out at the CRM: the run (host:pid) holding its lease, which
    # ends at next_sync_at (telecrm.cdrs.crm_sync). Not indexed: leased calls are pending
    # or failed ones, which the index on sync_status finds.
    sync_lease_owner: Mapped[str | None] = mapped_column(String(255))
    sync_message: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    crm_call_id: Mapped[str | None] = mapped_column(String(64))

    # what the call costs and how it was found (RATING.md): a row of its own, made by
    # billing; none while the call is pending
    rating: Mapped[CdrRating | None] = relationship(
        primaryjoin="Cdr.id == foreign(CdrRating.cdr_id)", viewonly=True, lazy="selectin"
    )

    calldate = synonym("start_time")
    caller = synonym("src")
    callee = synonym("dst")

    @property
    def lifecycle_status(self) -> str:
        """Seed 000's status: ``status`` until the call is rated (new, valid, invalid),
        then rated or unrated, then invoiced once it is on a sent invoice."""
        return lifecycle_status(self.status, self.rating)

    rating_status = _RatingStatusOf()
    rating_reason = _FromRating[str | None]()
    contract_id = _FromRating[int | None]()
    cleaned_number = _FromRating[str | None]()
    matched_prefix = _FromRating[str | None]()
    rate_id = _FromRating[int | None]()
    billable_seconds = _FromRating[int | None]()
    cost = _FromRating[Decimal | None]()
    rated_at = _FromRating[dt.datetime | None]()
    invoice_id = _FromRating[int | None]()


class CdrRating(Base):
    """What a call costs and how it was found (RATING.md): a row per call once billing
    has rated it (``rated``, possibly at cost 0) or could not (``unrated`` with the
    reason); a call without one is pending. Only a valid call is ever rated.

    A table of its own, narrow, so that rating a month writes a million short rows in
    one COPY instead of rewriting a million wide ``cdrs`` rows and every index entry
    they have (bench/README.md: 40 s -> a few seconds). ``start_time`` is the call's,
    copied, so that a month's invoicing reads this table alone.

    No foreign keys, on purpose: each would be checked row by row on every rating run
    (the one on ``cdr_id`` alone tripled the COPY). ``cdrs`` rows are never deleted;
    a rate on a rating cannot be deleted (``rates`` checks); a contract with ratings
    cannot be deleted (``contracts`` checks); only sent invoices, never deleted, have
    calls (``invoice_id``).

    On PostgreSQL partitioned by month on ``start_time`` like ``cdrs``, keyed by
    ``(cdr_id, start_time)``: join it to its call with ``rating_of_call`` so that
    the join reads only the months it needs.
    """

    __tablename__ = "cdr_ratings"
    __table_args__ = (
        Index("ix_cdr_ratings_contract_id_start_time", "contract_id", "start_time"),
        _where_set("invoice_id", table="cdr_ratings"),
        # The rated calls on no invoice: where a call that arrived after its month's
        # invoice was sent is found without reading every invoiced call of the past
        # (a call leaves the index once it is linked; unrated ones never enter it).
        Index(
            "ix_cdr_ratings_unbilled",
            "contract_id",
            "start_time",
            postgresql_where=text(UNBILLED),
            sqlite_where=text(UNBILLED),
        ),
        # Ratings are written a day at a time, so the table is in time order: on
        # PostgreSQL a BRIN index (a few pages, next to free to keep up) finds a
        # month; SQLite has only B-trees.
        Index("ix_cdr_ratings_start_time", "start_time", postgresql_using="brin"),
        # The calls list by rating reason, newest first: unrated calls only.
        Index(
            "ix_cdr_ratings_rating_reason",
            "rating_reason",
            "start_time",
            "cdr_id",
            postgresql_where=text("rating_reason IS NOT NULL"),
            sqlite_where=text("rating_reason IS NOT NULL"),
        ),
    )

    cdr_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    rating_status: Mapped[RatingStatus] = mapped_column(
        enum_column_type(RatingStatus, "rating_status")
    )
    rating_reason: Mapped[str | None] = mapped_column(String(30))
    contract_id: Mapped[int | None] = mapped_column(Integer)
    cleaned_number: Mapped[str | None] = mapped_column(String(120))
    matched_prefix: Mapped[str | None] = mapped_column(String(40))
    rate_id: Mapped[int | None] = mapped_column(Integer)
    billable_seconds: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Money(scale=COST_SCALE))
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    invoice_id: Mapped[int | None] = mapped_column(Integer)


def rating_of_call(
    start: dt.datetime | None = None, end: dt.datetime | None = None
) -> ColumnElement[bool]:
    """The join of a call to its rating, on the call's id and start (the partition key
    of both tables on PostgreSQL). With the window of calls a query reads, the
    ratings' side of it too: the planner does not carry a range across a join, and
    without it would read every month of ``cdr_ratings``."""
    condition = and_(CdrRating.cdr_id == Cdr.id, CdrRating.start_time == Cdr.start_time)
    if start is not None:
        condition = and_(condition, CdrRating.start_time >= start)
    if end is not None:
        condition = and_(condition, CdrRating.start_time < end)
    return condition


def rating_status_expression() -> Any:
    """``Cdr.rating_status`` in SQL (over ``cdrs`` outer-joined to ``cdr_ratings``), as
    text: pending while billing will rate the call, null for an invalid one."""
    return case(
        (CdrRating.cdr_id.is_not(None), cast(CdrRating.rating_status, String)),
        (Cdr.status == CdrState.INVALID.value, None),
        else_=RatingStatus.PENDING.value,
    )


def lifecycle_status_expression() -> Any:
    """``lifecycle_status`` in SQL, over ``cdrs`` outer-joined to ``cdr_ratings``."""
    return case(
        (Cdr.status != CdrState.VALID.value, Cdr.status),
        (CdrRating.invoice_id.is_not(None), CdrState.INVOICED.value),
        (CdrRating.cdr_id.is_not(None), cast(CdrRating.rating_status, String)),
        else_=Cdr.status,
    )


def lifecycle_status(stored: str, rating: CdrRating | None) -> str:
    if stored != CdrState.VALID.value or rating is None:
        return stored
    if rating.invoice_id is not None:
        return CdrState.INVOICED.value
    return str(rating.rating_status.value)


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
    # A database or push source's reject: the SHA-256 of its row, kept once per source
    # however often the row is read again. NULL for a file's (kept once per line).
    raw_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("source", "raw_key"),)
