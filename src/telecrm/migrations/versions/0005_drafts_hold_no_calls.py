"""Calls are linked to an invoice when it is sent, no longer when its draft is
generated: take the calls off every draft, so that generating it again sums them.
The CDR status follows (invoiced -> rated) at the next billing run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

cdrs = sa.table("cdrs", sa.column("invoice_id", sa.Integer()))
invoices = sa.table("invoices", sa.column("id", sa.Integer()), sa.column("status", sa.String()))


def upgrade() -> None:
    op.execute(
        sa.update(cdrs)
        .where(cdrs.c.invoice_id.in_(sa.select(invoices.c.id).where(invoices.c.status == "draft")))
        .values(invoice_id=None)
    )


def downgrade() -> None:
    # Nothing to put back: the earlier code links a draft's calls the next time the
    # draft is generated.
    pass
