"""CDR management: sources and fetch runs, seed 000's CDR_Status and Sync_Log, the
CRM's daily request count, and the CDR columns for validation and the call sync.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:43:27.480206
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rows of cdr_status as of this revision (telecrm.cdrs.lifecycle.models.CdrState).
CDR_STATUSES = [
    ("new", "Stored, not validated yet"),
    ("valid", "Passed validation, waiting to be rated"),
    ("invalid", "Failed validation; the CDR keeps every reason"),
    ("rated", "Rated: its cost is known (0 for an unanswered call)"),
    ("unrated", "Could not be rated; the rating reason says why"),
    ("invoiced", "On an invoice"),
]


def upgrade() -> None:
    op.create_table(
        "cdr_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "directory",
                "asterisk_db",
                "push",
                name="cdr_source_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("watermark", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_fetch_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_fetch_status", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_cdr_sources_name")),
    )
    cdr_status = op.create_table(
        "cdr_status",
        sa.Column("status_id", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("status_id", name=op.f("pk_cdr_status")),
    )
    op.bulk_insert(
        cdr_status, [{"status_id": key, "description": text} for key, text in CDR_STATUSES]
    )
    op.create_table(
        "crm_daily_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_crm_daily_usage")),
    )
    op.create_table(
        "cdr_fetch_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("window_start", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_end", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                name="fetch_run_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("invalid", sa.BigInteger(), nullable=False),
        sa.Column("last_cdr_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["cdr_sources.id"],
            name=op.f("fk_cdr_fetch_runs_source_id_cdr_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdr_fetch_runs")),
    )
    with op.batch_alter_table("cdr_fetch_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cdr_fetch_runs_source_id"), ["source_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cdr_fetch_runs_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "sync_log",
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cdr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("timestamp", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("crm_call_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["cdr_id"], ["cdrs.id"], name=op.f("fk_sync_log_cdr_id_cdrs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_log_cdr_id"), ["cdr_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_log_timestamp"), ["timestamp"], unique=False)

    # Before the key: a status written before this revision that is not one of the
    # lifecycle's starts over as new (validation runs again on it).
    known = ", ".join(f"'{key}'" for key, _ in CDR_STATUSES)
    op.execute(f"UPDATE cdrs SET status = 'new' WHERE status NOT IN ({known})")
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation_errors", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("sync_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("next_sync_at", telecrm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sync_message", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("synced_at", telecrm.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("crm_call_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cdrs_status_cdr_status"), "cdr_status", ["status"], ["status_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cdrs_status_cdr_status"), type_="foreignkey")
        batch_op.drop_column("crm_call_id")
        batch_op.drop_column("synced_at")
        batch_op.drop_column("sync_message")
        batch_op.drop_column("next_sync_at")
        batch_op.drop_column("sync_attempts")
        batch_op.drop_column("validation_errors")

    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_log_timestamp"))
        batch_op.drop_index(batch_op.f("ix_sync_log_cdr_id"))

    op.drop_table("sync_log")
    with op.batch_alter_table("cdr_fetch_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cdr_fetch_runs_started_at"))
        batch_op.drop_index(batch_op.f("ix_cdr_fetch_runs_source_id"))

    op.drop_table("cdr_fetch_runs")
    op.drop_table("crm_daily_usage")
    op.drop_table("cdr_status")
    op.drop_table("cdr_sources")
