"""A call's rating moves from ``cdrs`` to a narrow table of its own, ``cdr_ratings``
(one row per rated or unrated call; none while it is pending), so that rating a
month of calls writes short rows with one COPY instead of rewriting a million wide
``cdrs`` rows and their index entries. ``cdrs.status`` keeps validation's outcome
(new, valid, invalid); rated, unrated and invoiced are read from the rating.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATING = (
    "rating_status",
    "rating_reason",
    "contract_id",
    "cleaned_number",
    "matched_prefix",
    "rate_id",
    "billable_seconds",
    "cost",
    "rated_at",
    "invoice_id",
)
# OR, not IN: SQLite evaluates an IN list by building a table for each inserted row
STORED = "status = 'new' OR status = 'valid' OR status = 'invalid'"
ALL_STATUSES = "status IN ('new', 'valid', 'invalid', 'rated', 'unrated', 'invoiced')"


def _rating_status(name: str) -> sa.Enum:
    return sa.Enum(
        "pending", "rated", "unrated", name=name, native_enum=False, create_constraint=True
    )


def upgrade() -> None:
    op.create_table(
        "cdr_ratings",
        sa.Column("cdr_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("start_time", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rating_status", _rating_status("rating_status"), nullable=False),
        sa.Column("rating_reason", sa.String(length=30), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("cleaned_number", sa.String(length=120), nullable=True),
        sa.Column("matched_prefix", sa.String(length=40), nullable=True),
        sa.Column("rate_id", sa.Integer(), nullable=True),
        sa.Column("billable_seconds", sa.Integer(), nullable=True),
        sa.Column("cost", telecrm.db.Money(scale=6, precision=24), nullable=True),
        sa.Column("rated_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("cdr_id", name=op.f("pk_cdr_ratings")),
    )
    columns = ", ".join(RATING)
    op.execute(
        f"INSERT INTO cdr_ratings (cdr_id, start_time, {columns}) "
        f"SELECT id, start_time, rating_status, rating_reason, contract_id, cleaned_number, "
        f"matched_prefix, rate_id, billable_seconds, cost, "
        f"COALESCE(rated_at, updated_at), invoice_id FROM cdrs "
        f"WHERE rating_status <> 'pending'"
    )
    with op.batch_alter_table("cdr_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cdr_ratings_contract_id_start_time", ["contract_id", "start_time"], unique=False
        )
        batch_op.create_index(
            "ix_cdr_ratings_invoice_id",
            ["invoice_id"],
            unique=False,
            postgresql_where=sa.text("invoice_id IS NOT NULL"),
            sqlite_where=sa.text("invoice_id IS NOT NULL"),
        )
        # in time order (written a day at a time): BRIN on PostgreSQL
        batch_op.create_index(
            "ix_cdr_ratings_start_time", ["start_time"], unique=False, postgresql_using="brin"
        )
    op.execute("UPDATE cdrs SET status = 'valid' WHERE status IN ('rated', 'unrated', 'invoiced')")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index("ix_cdrs_invoice_id")
        batch_op.drop_index("ix_cdrs_rate_id")
        batch_op.drop_index("ix_cdrs_contract_id_start_time")
        batch_op.drop_constraint(batch_op.f("fk_cdrs_contract_id_contracts"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cdrs_invoice_id_invoices"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cdrs_rate_id_rates"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_cdrs_status_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_cdrs_rating_status"), type_="check")
        for name in RATING:
            batch_op.drop_column(name)
        batch_op.create_check_constraint("status_known", STORED)


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_cdrs_status_known"), type_="check")
        batch_op.add_column(
            sa.Column(
                "rating_status",
                _rating_status("rating_status"),
                nullable=False,
                server_default="pending",
            )
        )
        batch_op.add_column(sa.Column("rating_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cleaned_number", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("matched_prefix", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("rate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("billable_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("cost", telecrm.db.Money(scale=6, precision=24), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rated_at", telecrm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("invoice_id", sa.Integer(), nullable=True))
        batch_op.create_check_constraint("status_known", ALL_STATUSES)
    ratings = sa.table("cdr_ratings", sa.column("cdr_id"), *(sa.column(name) for name in RATING))
    cdrs = sa.table("cdrs", sa.column("id"), sa.column("status"), *(sa.column(n) for n in RATING))
    op.execute(
        sa.update(cdrs)
        .values(
            {
                name: sa.select(ratings.c[name])
                .where(ratings.c.cdr_id == cdrs.c.id)
                .scalar_subquery()
                for name in RATING
            }
        )
        .where(sa.exists().where(ratings.c.cdr_id == cdrs.c.id))
    )
    op.execute(
        "UPDATE cdrs SET status = CASE WHEN invoice_id IS NOT NULL THEN 'invoiced' "
        "ELSE rating_status END WHERE status = 'valid' AND rating_status <> 'pending'"
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.alter_column("rating_status", server_default=None)
        batch_op.create_foreign_key(
            "fk_cdrs_contract_id_contracts",
            "contracts",
            ["contract_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_cdrs_invoice_id_invoices", "invoices", ["invoice_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_cdrs_rate_id_rates", "rates", ["rate_id"], ["id"], ondelete="RESTRICT"
        )
        for columns in (["contract_id", "start_time"], ["rate_id"], ["invoice_id"]):
            condition = sa.text(f"{columns[0]} IS NOT NULL")
            batch_op.create_index(
                f"ix_cdrs_{'_'.join(columns)}",
                columns,
                unique=False,
                postgresql_where=condition,
                sqlite_where=condition,
            )
    op.drop_table("cdr_ratings")
