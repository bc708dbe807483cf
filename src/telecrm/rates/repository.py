from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.orm import Session

from telecrm import textsearch
from telecrm.rates.models import Rate, RateGroup


def get_group(session: Session, group_id: int) -> RateGroup | None:
    return session.get(RateGroup, group_id)


def get_group_by_name(session: Session, name: str) -> RateGroup | None:
    return session.scalars(select(RateGroup).where(RateGroup.name == name)).one_or_none()


def groups_by_id(session: Session, group_ids: Collection[int]) -> dict[int, RateGroup]:
    groups = session.scalars(select(RateGroup).where(RateGroup.id.in_(group_ids)))
    return {group.id: group for group in groups}


def groups_by_name(session: Session, names: Collection[str]) -> dict[str, RateGroup]:
    groups = session.scalars(select(RateGroup).where(RateGroup.name.in_(names)))
    return {group.name: group for group in groups}


def list_groups_with_rate_counts(session: Session) -> Sequence[tuple[RateGroup, int]]:
    """Every group with its number of rates."""
    rate_count = (
        select(func.count(Rate.id)).where(Rate.rate_group_id == RateGroup.id).scalar_subquery()
    )
    rows = session.execute(select(RateGroup, rate_count).order_by(RateGroup.id)).all()
    return [(group, rates) for group, rates in rows]


def rate_count(session: Session, group_id: int) -> int:
    return session.scalar(select(func.count(Rate.id)).where(Rate.rate_group_id == group_id)) or 0


def add(session: Session, obj: RateGroup | Rate) -> None:
    session.add(obj)
    session.flush()


def delete(session: Session, obj: RateGroup | Rate) -> None:
    session.delete(obj)
    session.flush()


def insert_groups(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Groups with the ids their file gave them."""
    if not rows:
        return
    session.execute(insert(RateGroup), list(rows))
    if session.get_bind().dialect.name == "postgresql":
        # Explicit ids do not advance the id sequence; without this the next group
        # created through the API would collide with an imported one.
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('rate_groups', 'id'), "
                "(SELECT max(id) FROM rate_groups))"
            )
        )


# Rows per INSERT of a deck: the statement's parameters are built per batch.
INSERT_BATCH = 10_000


def insert_rates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(Rate), list(rows[start : start + INSERT_BATCH]))


def get_rate(session: Session, rate_id: int) -> Rate | None:
    return session.get(Rate, rate_id)


def list_rates(
    session: Session,
    group_id: int,
    *,
    prefix: str | None = None,
    active_at: dt.datetime | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Rate]:
    """The group's rates by id; ``prefix``: destinations starting with it;
    ``active_at``: only those in effect at that instant."""
    query = select(Rate).where(Rate.rate_group_id == group_id).order_by(Rate.id)
    if prefix:
        query = query.where(textsearch.starts_with(Rate.rate_prefix + Rate.area_prefix, prefix))
    if active_at is not None:
        query = query.where(
            or_(Rate.effective_from.is_(None), Rate.effective_from <= active_at),
            or_(Rate.effective_to.is_(None), Rate.effective_to > active_at),
        )
    if after_id is not None:
        query = query.where(Rate.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def rates_of_groups(session: Session, group_ids: Collection[int]) -> Sequence[Rate]:
    return session.scalars(select(Rate).where(Rate.rate_group_id.in_(group_ids))).all()


def rates_for_destination(session: Session, group_id: int, destination: str) -> Sequence[Rate]:
    return session.scalars(
        select(Rate).where(
            Rate.rate_group_id == group_id, Rate.rate_prefix + Rate.area_prefix == destination
        )
    ).all()
