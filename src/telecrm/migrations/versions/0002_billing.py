"""Billing: rate groups, rates, contracts, CDRs with their imports and rejects, invoices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:36:05.991925
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cdr_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lines_read", sa.BigInteger(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("started_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_imports")),
    )
    with op.batch_alter_table("cdr_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cdr_imports_file_sha256"), ["file_sha256"], unique=False
        )

    op.create_table(
        "invoice_sequences",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_invoice_sequences")),
    )
    op.create_table(
        "rate_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_rate_groups_name")),
    )
    op.create_table(
        "cdr_rejects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("file_name", sa.String(length=1000), nullable=True),
        sa.Column("line_number", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["cdr_imports.id"],
            name=op.f("fk_cdr_rejects_import_id_cdr_imports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_rejects")),
    )
    with op.batch_alter_table("cdr_rejects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cdr_rejects_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdr_rejects_import_id"), ["import_id"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("accountcode", sa.String(length=80), nullable=False),
        sa.Column("contact_person", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "terminated",
                name="contract_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("rate_group_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate", telecrm.db.Money(scale=4, precision=9), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("rewrite_rules", sa.JSON(), nullable=True),
        sa.Column(
            "created_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "payment_terms_days >= 0", name=op.f("ck_contracts_payment_terms_not_negative")
        ),
        sa.CheckConstraint("tax_rate >= 0", name=op.f("ck_contracts_tax_rate_not_negative")),
        sa.ForeignKeyConstraint(
            ["rate_group_id"],
            ["rate_groups.id"],
            name=op.f("fk_contracts_rate_group_id_rate_groups"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("accountcode", name=op.f("uq_contracts_accountcode")),
    )
    op.create_table(
        "rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rate_group_id", sa.Integer(), nullable=False),
        sa.Column("rate_prefix", sa.String(length=20), nullable=False),
        sa.Column("area_prefix", sa.String(length=20), server_default="", nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column(
            "rate_type",
            sa.Enum(
                "per_minute",
                "per_second",
                "flat_rate",
                name="rate_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("billing_rate", telecrm.db.Money(scale=8, precision=24), nullable=False),
        sa.Column("billing_cycle", sa.Integer(), nullable=False),
        sa.Column("initial_increment", sa.Integer(), nullable=True),
        sa.Column(
            "connect_fee",
            telecrm.db.Money(scale=8, precision=24),
            server_default="0",
            nullable=False,
        ),
        sa.Column("effective_from", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("effective_to", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("billing_cycle >= 1", name=op.f("ck_rates_billing_cycle_positive")),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_from IS NULL OR effective_to > effective_from",
            name=op.f("ck_rates_effective_range"),
        ),
        sa.CheckConstraint(
            "initial_increment IS NULL OR initial_increment >= 1",
            name=op.f("ck_rates_initial_increment_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["rate_group_id"],
            ["rate_groups.id"],
            name=op.f("fk_rates_rate_group_id_rate_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rates")),
    )
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rates_group_prefix", ["rate_group_id", "rate_prefix", "area_prefix"], unique=False
        )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_number", sa.String(length=30), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("accountcode", sa.String(length=80), nullable=False),
        sa.Column("period_start", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", telecrm.db.Money(scale=4, precision=24), nullable=False),
        sa.Column("tax_rate", telecrm.db.Money(scale=4, precision=9), nullable=False),
        sa.Column("tax", telecrm.db.Money(scale=4, precision=24), nullable=False),
        sa.Column("amount", telecrm.db.Money(scale=4, precision=24), nullable=False),
        sa.Column("call_count", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "sent",
                "pending_approval",
                "paid",
                name="invoice_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("sent_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payment_requested_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_invoices_contract_id_contracts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "contract_id", "period_start", name=op.f("uq_invoices_contract_id_period_start")
        ),
        sa.UniqueConstraint("invoice_number", name=op.f("uq_invoices_invoice_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_accountcode"), ["accountcode"], unique=False)
        batch_op.create_index(batch_op.f("ix_invoices_status"), ["status"], unique=False)

    op.create_table(
        "cdrs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unique_key", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=150), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("accountcode", sa.String(length=80), nullable=False),
        sa.Column("src", sa.String(length=80), nullable=False),
        sa.Column("dst", sa.String(length=120), nullable=False),
        sa.Column("clid", sa.String(length=160), nullable=True),
        sa.Column("dcontext", sa.String(length=80), nullable=True),
        sa.Column("channel", sa.String(length=160), nullable=True),
        sa.Column("dstchannel", sa.String(length=160), nullable=True),
        sa.Column("lastapp", sa.String(length=80), nullable=True),
        sa.Column("lastdata", sa.String(length=255), nullable=True),
        sa.Column("start_time", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer_time", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_time", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("billsec", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("amaflags", sa.String(length=20), nullable=True),
        sa.Column("userfield", sa.String(length=255), nullable=True),
        sa.Column("peeraccount", sa.String(length=80), nullable=True),
        sa.Column("linkedid", sa.String(length=150), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sync_status", sa.String(length=20), nullable=False),
        sa.Column(
            "rating_status",
            sa.Enum(
                "pending",
                "rated",
                "unrated",
                name="rating_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("rating_reason", sa.String(length=30), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("cleaned_number", sa.String(length=120), nullable=True),
        sa.Column("matched_prefix", sa.String(length=40), nullable=True),
        sa.Column("rate_id", sa.Integer(), nullable=True),
        sa.Column("billable_seconds", sa.Integer(), nullable=True),
        sa.Column("cost", telecrm.db.Money(scale=6, precision=24), nullable=True),
        sa.Column("rated_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            telecrm.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("billsec >= 0", name=op.f("ck_cdrs_billsec_not_negative")),
        sa.CheckConstraint("duration >= 0", name=op.f("ck_cdrs_duration_not_negative")),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_cdrs_contract_id_contracts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_cdrs_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"], ["rates.id"], name=op.f("fk_cdrs_rate_id_rates"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_cdrs_unique_key")),
    )
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        for columns in (["contract_id", "start_time"], ["rate_id"], ["invoice_id"]):
            condition = sa.text(f"{columns[0]} IS NOT NULL")
            batch_op.create_index(
                f"ix_cdrs_{'_'.join(columns)}",
                columns,
                unique=False,
                postgresql_where=condition,
                sqlite_where=condition,
            )
        batch_op.create_index(batch_op.f("ix_cdrs_start_time"), ["start_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdrs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cdrs_sync_status"), ["sync_status"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=True),
        sa.Column("call_count", sa.BigInteger(), nullable=False),
        sa.Column("billable_seconds", sa.BigInteger(), nullable=False),
        sa.Column("amount", telecrm.db.Money(scale=6, precision=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_lines_invoice_id"), ["invoice_id"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_contract_id"), ["contract_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_users_contract_id_contracts"),
            "contracts",
            ["contract_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_contract_id_contracts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_contract_id"))
        batch_op.drop_column("contract_id")

    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_lines_invoice_id"))

    op.drop_table("invoice_lines")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdrs_sync_status"))
        batch_op.drop_index(batch_op.f("ix_cdrs_status"))
        batch_op.drop_index(batch_op.f("ix_cdrs_start_time"))
        batch_op.drop_index("ix_cdrs_invoice_id")
        batch_op.drop_index("ix_cdrs_rate_id")
        batch_op.drop_index("ix_cdrs_contract_id_start_time")

    op.drop_table("cdrs")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_status"))
        batch_op.drop_index(batch_op.f("ix_invoices_accountcode"))

    op.drop_table("invoices")
    with op.batch_alter_table("rates", schema=None) as batch_op:
        batch_op.drop_index("ix_rates_group_prefix")

    op.drop_table("rates")
    op.drop_table("contracts")
    with op.batch_alter_table("cdr_rejects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_rejects_import_id"))
        batch_op.drop_index(batch_op.f("ix_cdr_rejects_created_at"))

    op.drop_table("cdr_rejects")
    op.drop_table("rate_groups")
    op.drop_table("invoice_sequences")
    with op.batch_alter_table("cdr_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_imports_file_sha256"))

    op.drop_table("cdr_imports")
