"""The audit log writes itself: a session that carries an actor (every API request's
does) records each inserted, updated and deleted ORM object when it flushes.
Services that write in bulk through Core call ``record`` for the batch."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from telecrm.audit import repository
from telecrm.audit.models import AuditEntry
from telecrm.db import utcnow

ACTOR_KEY = "audit_actor"
REDACTED_FIELDS = frozenset({"password_hash", "key_hash", "secret", "password", "token"})
# Bookkeeping that changes on reads too; an update of these alone is not an event.
UNAUDITED_FIELDS = frozenset({"created_at", "updated_at", "last_used_at", "last_login_at"})


def set_actor(session: Session, actor: str) -> None:
    session.info[ACTOR_KEY] = actor


def actor_of(session: Session) -> str | None:
    return session.info.get(ACTOR_KEY)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return "<bytes>"
    return value


def _field_value(name: str, value: Any) -> Any:
    return "***" if name in REDACTED_FIELDS else _plain(value)


def _changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in UNAUDITED_FIELDS:
            continue
        history = state.attrs[attr.key].history
        if action == "create":
            value = getattr(obj, attr.key)
            if value is not None:
                changes[attr.key] = _field_value(attr.key, value)
        elif action == "update" and history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            changes[attr.key] = [_field_value(attr.key, before), _field_value(attr.key, after)]
        elif action == "delete":
            changes[attr.key] = _field_value(attr.key, getattr(obj, attr.key))
    return changes


def _object_id(obj: Any) -> str | None:
    # After a flush the key is on the object even where the identity map has not
    # caught up yet (new objects).
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    if all(part is None for part in key):
        return None
    return ",".join(str(part) for part in key)


def list_entries(session: Session, **filters: Any) -> Sequence[AuditEntry]:
    return repository.list_entries(session, **filters)


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: str | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record an action that is not a plain ORM write (a bulk load, a transition)."""
    actor = actor_of(session)
    if actor is None:
        return
    session.execute(
        insert(AuditEntry),
        [
            {
                "at": utcnow(),
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "changes": changes,
            }
        ],
    )


@event.listens_for(Session, "after_flush")
def _audit_flushed_objects(session: Session, _flush_context: Any) -> None:
    actor = actor_of(session)
    if actor is None:
        return
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, AuditEntry):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append(
                {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "object_type": obj.__tablename__,
                    "object_id": _object_id(obj),
                    "changes": changes,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
