"""``cdrs.status`` is checked against the known statuses by a CHECK constraint
instead of a foreign key to ``cdr_status``, and loses its index. The foreign key was
checked row by row on every import (3.4 s of a million-row import on PostgreSQL,
bench/README.md); the index served no query (statuses are counted over the whole
table, and the lifecycle queries walk ``id``). ``cdr_status`` stays, as the
description of each status.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 15:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN = "status IN ('new', 'valid', 'invalid', 'rated', 'unrated', 'invoiced')"


def upgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cdrs_status_cdr_status"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cdrs_status"))
        batch_op.create_check_constraint("status_known", KNOWN)


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_cdrs_status_known"), type_="check")
        batch_op.create_index(batch_op.f("ix_cdrs_status"), ["status"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cdrs_status_cdr_status"), "cdr_status", ["status"], ["status_id"]
        )
