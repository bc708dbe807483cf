"""CRM: accounts, contacts, deals, deal aggregations; contracts.account_id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:39:47.525679
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTRACT_ACCOUNT_FK = (
    "CONSTRAINT fk_contracts_account_id_accounts FOREIGN KEY(account_id)"
    " REFERENCES accounts (account_id) ON DELETE SET NULL"
)


def _add_constraint(table_sql: str, constraint: str) -> str:
    body = table_sql.rstrip()
    if not body.endswith(")"):
        raise RuntimeError(f"unexpected table definition: {table_sql}")
    return f"{body[:-1].rstrip()}, {constraint}\n)"


def _sqlite_table_sql(table: str, change: Callable[[str], str]) -> None:
    """SQLite's documented procedure for a schema change that leaves the stored rows as
    they are (https://www.sqlite.org/lang_altertable.html#otheralter): rewrite the
    table's CREATE statement, bump the schema version, check integrity."""
    bind = op.get_bind()
    query = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name")
    old_sql = bind.execute(query, {"name": table}).scalar_one()
    new_sql = change(old_sql)
    if new_sql == old_sql:
        raise RuntimeError(f"the definition of {table} did not change")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": new_sql, "name": table},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"{table} after the change: {problems}")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("account_name", sa.String(length=255), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("account_value", telecrm.db.Money(scale=2, precision=24), nullable=False),
        sa.Column(
            "region",
            sa.Enum(
                "North America",
                "Europe",
                "Asia",
                name="region",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.Column("crm_updated_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("crm_sync_error", sa.Text(), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_accounts_account_id")),
        sa.UniqueConstraint("crm_id", name=op.f("uq_accounts_crm_id")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("job_title", sa.String(length=150), nullable=True),
        sa.Column(
            "lead_source",
            sa.Enum(
                "Website",
                "Referral",
                "Email Campaign",
                name="lead_source",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("last_contact_date", sa.Date(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.Column("crm_updated_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("crm_sync_error", sa.Text(), nullable=True),
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
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_contacts_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_contacts_contact_id")),
        sa.UniqueConstraint("crm_id", name=op.f("uq_contacts_crm_id")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_phone"), ["phone"], unique=False)

    op.create_table(
        "deal_aggregations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "aggregation_type",
            sa.Enum(
                "daily",
                "weekly",
                "monthly",
                name="aggregation_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("aggregation_date", sa.Date(), nullable=False),
        sa.Column("total_deal_size", telecrm.db.Money(scale=2, precision=24), nullable=False),
        sa.Column("deal_count", sa.Integer(), nullable=False),
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
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_deal_aggregations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_aggregations")),
        sa.UniqueConstraint(
            "account_id",
            "aggregation_type",
            "aggregation_date",
            name="uq_deal_aggregations_account_period",
        ),
    )
    with op.batch_alter_table("deal_aggregations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deal_aggregations_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("deal_name", sa.String(length=255), nullable=False),
        sa.Column("deal_size", telecrm.db.Money(scale=2, precision=24), nullable=True),
        sa.Column("probability_of_closure", sa.String(length=50), nullable=False),
        sa.Column(
            "deal_stage",
            sa.Enum(
                "Prospecting",
                "Negotiation",
                "Closed-Won",
                "Closed-Lost",
                name="deal_stage",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.Column("crm_updated_at", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("crm_sync_error", sa.Text(), nullable=True),
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
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_deals_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
        sa.UniqueConstraint("crm_id", name=op.f("uq_deals_crm_id")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_deals_deal_id")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_account_id"), ["account_id"], unique=False)

    # contracts.account_id. SQLite cannot add a foreign key to a table, and a batch
    # rebuild would drop the old contracts table, which with foreign keys on runs the
    # ON DELETE actions of the tables that refer to it (users.contract_id would be
    # set to NULL, invoices would stop the migration). So: add the plain column, then
    # add the constraint to the stored table definition (see _sqlite_table_sql).
    op.add_column("contracts", sa.Column("account_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table_sql("contracts", lambda sql: _add_constraint(sql, CONTRACT_ACCOUNT_FK))
    else:
        op.create_foreign_key(
            op.f("fk_contracts_account_id_accounts"),
            "contracts",
            "accounts",
            ["account_id"],
            ["account_id"],
            ondelete="SET NULL",
        )
    op.create_index(op.f("ix_contracts_account_id"), "contracts", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_contracts_account_id"), table_name="contracts")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table_sql("contracts", lambda sql: sql.replace(", " + CONTRACT_ACCOUNT_FK, ""))
    else:
        op.drop_constraint(
            op.f("fk_contracts_account_id_accounts"), "contracts", type_="foreignkey"
        )
    op.drop_column("contracts", "account_id")

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deals_account_id"))

    op.drop_table("deals")
    with op.batch_alter_table("deal_aggregations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_aggregations_account_id"))

    op.drop_table("deal_aggregations")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_phone"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_id"))

    op.drop_table("contacts")
    op.drop_table("accounts")
