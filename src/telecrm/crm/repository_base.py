"""Every query of a CRM domain table, written once. A domain's repository names its
model and its business key; field names reaching here were checked by the service."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import InstrumentedAttribute, Session

from telecrm.crm.models import CrmSyncMixin
from telecrm.db import check_comparable

ModelT = TypeVar("ModelT", bound=CrmSyncMixin)

# Keys per IN (...) list: far below SQLite's bound-parameter limit.
IN_CHUNK = 1000


def chunked(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class CrmRepository(Generic[ModelT]):
    # The mapped class; typed loosely so that the generic queries type-check.
    model: ClassVar[type[Any]]
    key_field: ClassVar[str]

    def __init__(self, session: Session) -> None:
        self.session = session

    def column(self, field: str) -> InstrumentedAttribute[Any]:
        attribute: InstrumentedAttribute[Any] = getattr(self.model, field)
        return attribute

    def check_filter(self, field: str, value: Any) -> None:
        """``ValueError`` when the value is beyond what the field's column holds."""
        check_comparable(self.column(field).type, value)

    @property
    def key(self) -> InstrumentedAttribute[Any]:
        return self.column(self.key_field)

    def all(self) -> Sequence[ModelT]:
        return self.session.scalars(select(self.model).order_by(self.key)).all()

    def get_by_key(self, value: Any) -> ModelT | None:
        return self.session.scalars(select(self.model).where(self.key == value)).one_or_none()

    def find_by_field(self, field: str, value: Any) -> Sequence[ModelT]:
        column = self.column(field)
        condition = column.is_(None) if value is None else column == value
        query = select(self.model).where(condition).order_by(self.key)
        return self.session.scalars(query).all()

    def page(
        self,
        filters: Mapping[str, Any],
        sort_field: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[ModelT], int]:
        conditions: list[ColumnElement[bool]] = [
            self.column(field) == value for field, value in filters.items()
        ]
        total = self.session.scalar(select(func.count()).select_from(self.model).where(*conditions))
        order = self.column(sort_field).desc() if descending else self.column(sort_field).asc()
        query = (
            select(self.model)
            .where(*conditions)
            .order_by(order, self.model.id)
            .offset(offset)
            .limit(limit)
        )
        return self.session.scalars(query).all(), int(total or 0)

    def rows_by_keys(self, keys: Sequence[Any]) -> dict[Any, RowMapping]:
        """The stored rows (every column) of these business keys, by key."""
        table = self.model.__table__
        rows: dict[Any, RowMapping] = {}
        for chunk in chunked(list(dict.fromkeys(keys))):
            query = select(table).where(table.c[self.key_field].in_(chunk))
            for row in self.session.execute(query).mappings():
                rows[row[self.key_field]] = row
        return rows

    def keys_by_crm_ids(self, crm_ids: Sequence[str]) -> dict[str, Any]:
        """Which business key holds each of these CRM ids here."""
        found: dict[str, Any] = {}
        for chunk in chunked(list(dict.fromkeys(crm_ids))):
            query = select(self.model.crm_id, self.key).where(self.model.crm_id.in_(chunk))
            found.update({crm_id: key for crm_id, key in self.session.execute(query)})
        return found

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One executemany INSERT of rows that all have the same columns (straight to
        the table: the ORM would sort 100,000 rows into groups first)."""
        if rows:
            self.session.execute(insert(self.model.__table__), list(rows))

    def update_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Each row carries its primary key ``id``: one executemany UPDATE."""
        if rows:
            self.session.execute(update(self.model), list(rows))

    def pending(self) -> Sequence[ModelT]:
        query = select(self.model).where(self.model.crm_sync_error.is_not(None)).order_by(self.key)
        return self.session.scalars(query).all()

    def add(self, obj: ModelT) -> None:
        self.session.add(obj)
        self.session.flush()

    def delete(self, obj: ModelT) -> None:
        self.session.delete(obj)
        self.session.flush()
