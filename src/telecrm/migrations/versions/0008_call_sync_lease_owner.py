"""``cdrs.sync_lease_owner``: the run (``host:pid``) that holds a CDR's lease while
its batch is out at the CRM, so that an operator can release the leases of a run
that died without waiting for them to end, and never those of a run still going.
No index: every imported call would pay for it, and the leased calls are pending or
failed ones, which the index on ``sync_status`` finds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sync_lease_owner", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cdrs", schema=None) as batch_op:
        batch_op.drop_column("sync_lease_owner")
