"""A reject of a database or push source is kept once: ``cdr_rejects.raw_key`` (the
SHA-256 of the rejected row), unique per source, so that a row read again (the
worker re-reads a database with an overlap, a PBX pushes a batch again) adds no
second reject. A file's rejects keep a NULL key (they are kept once per line).

The rejects already kept get their key, the oldest of each row only: the copies an
earlier version kept stay, unkeyed, and the next read of the row adds none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:15:00.000000
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REJECTS = sa.table(
    "cdr_rejects",
    sa.column("id", sa.BigInteger()),
    sa.column("source", sa.String()),
    sa.column("file_name", sa.String()),
    sa.column("raw", sa.Text()),
    sa.column("raw_key", sa.String()),
)


def _key_kept_rejects() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_REJECTS.c.id, _REJECTS.c.source, _REJECTS.c.raw)
        .where(_REJECTS.c.file_name.is_(None), _REJECTS.c.source.is_not(None))
        .order_by(_REJECTS.c.id)
    )
    seen: set[tuple[str, str]] = set()
    keys = []
    for reject_id, source, raw in rows:
        key = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
        if (source, key) not in seen:
            seen.add((source, key))
            keys.append({"reject_id": reject_id, "key": key})
    if keys:
        connection.execute(
            sa.update(_REJECTS)
            .where(_REJECTS.c.id == sa.bindparam("reject_id"))
            .values(raw_key=sa.bindparam("key")),
            keys,
        )


def upgrade() -> None:
    with op.batch_alter_table("cdr_rejects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_key", sa.String(length=64), nullable=True))
    _key_kept_rejects()
    with op.batch_alter_table("cdr_rejects", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_cdr_rejects_source_raw_key"), ["source", "raw_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cdr_rejects", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cdr_rejects_source_raw_key"), type_="unique")
        batch_op.drop_column("raw_key")
