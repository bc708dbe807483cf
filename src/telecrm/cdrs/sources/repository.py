"""Every query of CDR sources and fetch runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrImport
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource


def add(session: Session, obj: CdrSource | CdrFetchRun) -> None:
    session.add(obj)
    session.flush()


def get(session: Session, source_id: int) -> CdrSource | None:
    return session.get(CdrSource, source_id)


def by_name(session: Session, name: str) -> CdrSource | None:
    return session.scalar(select(CdrSource).where(CdrSource.name == name))


def all_sources(session: Session, enabled_only: bool = False) -> Sequence[CdrSource]:
    query = select(CdrSource).order_by(CdrSource.name)
    if enabled_only:
        query = query.where(CdrSource.enabled.is_(True))
    return session.scalars(query).all()


def delete(session: Session, source: CdrSource) -> None:
    session.delete(source)
    session.flush()


def runs(
    session: Session, source_id: int | None, limit: int, before_id: int | None
) -> Sequence[CdrFetchRun]:
    query = select(CdrFetchRun).order_by(CdrFetchRun.id.desc()).limit(limit)
    if source_id is not None:
        query = query.where(CdrFetchRun.source_id == source_id)
    if before_id is not None:
        query = query.where(CdrFetchRun.id < before_id)
    return session.scalars(query).all()


def window_cdrs(
    session: Session,
    source_name: str,
    start: dt.datetime,
    end: dt.datetime,
    after_id: int,
    limit: int,
) -> Sequence[Cdr]:
    """The source's CDRs that started in ``[start, end)``, by id after ``after_id``."""
    return session.scalars(
        select(Cdr)
        .where(
            Cdr.source == source_name,
            Cdr.start_time >= start,
            Cdr.start_time < end,
            Cdr.id > after_id,
        )
        .order_by(Cdr.id)
        .limit(limit)
        # as the validation just left them (it updates in bulk, past the identity map)
        .execution_options(populate_existing=True)
    ).all()


def latest_start(session: Session, source_name: str) -> dt.datetime | None:
    return session.scalar(select(func.max(Cdr.start_time)).where(Cdr.source == source_name))


def finished_import(session: Session, file_name: str, file_format: str) -> CdrImport | None:
    """The latest import of this file that read it to its end."""
    return session.scalars(
        select(CdrImport)
        .where(
            CdrImport.file_name == file_name,
            CdrImport.format == file_format,
            CdrImport.status == "done",
        )
        .order_by(CdrImport.id.desc())
        .limit(1)
    ).first()


def last_reported_cdr_id(session: Session, source_id: int) -> int:
    """Where the source's previous runs stopped reporting (0: never)."""
    return int(
        session.scalar(
            select(func.coalesce(func.max(CdrFetchRun.last_cdr_id), 0)).where(
                CdrFetchRun.source_id == source_id
            )
        )
        or 0
    )
