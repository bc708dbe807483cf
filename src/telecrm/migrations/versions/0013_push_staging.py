"""``cdr_push_staging``: the posts to /api/cdrs/push, kept as they came until a drain
imports them in batches (the API answers 202 once a post is committed here).

The downgrade refuses while posts wait: they would be lost with the table. Drain
them first (``telecrm cdr sources drain``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:49:55.134498
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cdr_push_staging",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_push_staging")),
    )


def downgrade() -> None:
    staged = op.get_bind().scalar(sa.text("SELECT count(*) FROM cdr_push_staging"))
    if staged:
        raise RuntimeError(
            f"{staged} pushed posts are staged and not imported yet: "
            "run 'telecrm cdr sources drain' before downgrading"
        )
    op.drop_table("cdr_push_staging")
