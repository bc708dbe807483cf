"""Every query of CDR sources and fetch runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import Cdr, CdrImport
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, CdrSourceType, StagedPush
from telecrm.db import utcnow


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


# --- posts staged by /api/cdrs/push ---------------------------------------------------


def push_target(session: Session, name: str) -> tuple[CdrSourceType, bool] | None:
    """A source's type and whether it is enabled: all a post needs of it (Core: no
    object to load on the hot path)."""
    row = session.execute(
        select(CdrSource.type, CdrSource.enabled).where(CdrSource.name == name)
    ).first()
    return None if row is None else (row.type, row.enabled)


def stage_push(session: Session, source: str, actor: str, content_type: str, body: bytes) -> int:
    """One post as it came; its id. Core, not the ORM: the hot path of a busy PBX."""
    staged_id = session.execute(
        insert(StagedPush)
        .values(
            source=source, actor=actor, content_type=content_type, body=body, received_at=utcnow()
        )
        .returning(StagedPush.id)
    ).scalar_one()
    return int(staged_id)


def claim_staged(session: Session, limit: int, source: str | None = None) -> Sequence[StagedPush]:
    """The oldest staged posts, locked until the transaction ends; posts another drain
    holds are skipped (PostgreSQL), so drains in several processes share the work.
    On SQLite the drain's write lock (``BEGIN IMMEDIATE``) does the same."""
    query = (
        select(StagedPush).order_by(StagedPush.id).limit(limit).with_for_update(skip_locked=True)
    )
    if source is not None:
        query = query.where(StagedPush.source == source)
    return session.scalars(query).all()


def delete_staged(session: Session, posts: Sequence[StagedPush]) -> None:
    session.execute(delete_rows(StagedPush).where(StagedPush.id.in_([post.id for post in posts])))
    for post in posts:  # gone from the table: out of the identity map too
        session.expunge(post)


def staged_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StagedPush)) or 0)
