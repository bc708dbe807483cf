"""Calls that arrive after their month's invoice was sent are billed: on the
contract's next invoice, in a section of earlier periods (``invoice_lines.
original_invoice_id`` names the sent invoice of their month), or on an adjustment
(``invoices.kind``, ``original_invoice_id``). A month has one monthly invoice per
contract and any number of adjustments, so the uniqueness covers monthly invoices
only. ``ix_cdr_ratings_unbilled`` finds the rated calls on no invoice without
reading every invoiced call of the past.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONTHLY = sa.text("kind = 'monthly'")
UNBILLED = sa.text("rating_status = 'rated' AND invoice_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "monthly",
                    "adjustment",
                    name="invoice_kind",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="monthly",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "bills_earlier_periods", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("original_invoice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invoices_original_invoice_id_invoices"),
            "invoices",
            ["original_invoice_id"],
            ["id"],
        )
        batch_op.drop_constraint(batch_op.f("uq_invoices_contract_id_period_start"), type_="unique")
        batch_op.create_index(
            "uq_invoices_monthly_contract_id_period_start",
            ["contract_id", "period_start"],
            unique=True,
            postgresql_where=MONTHLY,
            sqlite_where=MONTHLY,
        )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_invoice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invoice_lines_original_invoice_id_invoices"),
            "invoices",
            ["original_invoice_id"],
            ["id"],
        )
    op.create_index(
        "ix_cdr_ratings_unbilled",
        "cdr_ratings",
        ["contract_id", "start_time"],
        unique=False,
        postgresql_where=UNBILLED,
        sqlite_where=UNBILLED,
    )


def downgrade() -> None:
    op.drop_index("ix_cdr_ratings_unbilled", table_name="cdr_ratings")
    # Draft adjustments go (their calls are on no invoice: a later generation bills
    # them again). A sent adjustment cannot go back: the old schema holds one
    # invoice per contract and month, and restoring that uniqueness fails.
    op.execute(
        "DELETE FROM invoice_lines WHERE invoice_id IN "
        "(SELECT id FROM invoices WHERE kind = 'adjustment' AND status = 'draft')"
    )
    op.execute("DELETE FROM invoices WHERE kind = 'adjustment' AND status = 'draft'")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invoice_lines_original_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.drop_column("original_invoice_id")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("uq_invoices_monthly_contract_id_period_start")
        batch_op.create_unique_constraint(
            batch_op.f("uq_invoices_contract_id_period_start"), ["contract_id", "period_start"]
        )
        batch_op.drop_constraint(
            batch_op.f("fk_invoices_original_invoice_id_invoices"), type_="foreignkey"
        )
        batch_op.drop_column("original_invoice_id")
        batch_op.drop_column("bills_earlier_periods")
        batch_op.drop_constraint(batch_op.f("ck_invoices_invoice_kind"), type_="check")
        batch_op.drop_column("kind")
