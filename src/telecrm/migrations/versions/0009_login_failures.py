"""Sign-in hardening: failed logins for e-mails without an account are counted in
``login_failures`` (keyed by the e-mail's SHA-256), as an account's are on the user,
so that the answers do not tell which e-mails have accounts; ``users.token_version``,
raised by a password change, ends the tokens issued before it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import telecrm.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", telecrm.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", telecrm.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
    op.drop_table("login_failures")
