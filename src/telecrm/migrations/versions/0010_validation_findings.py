"""Only a finding about a field RATING.md bills by makes a call invalid: the calls
stored as invalid for anything else (a withheld, ``anonymous`` or named caller, a
called number that is not a number, an end before the start) become valid, keeping
their findings in ``validation_errors``, so that the next billing run rates them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# telecrm.cdrs.lifecycle.validation.UNBILLABLE as it is at this revision
UNBILLABLE = (
    "billsec_exceeds_duration",
    "missing_disposition",
    "missing_start_time",
    "unknown_disposition",
)

cdrs = sa.table(
    "cdrs",
    sa.column("id", sa.BigInteger()),
    sa.column("status", sa.String()),
    sa.column("validation_errors", sa.JSON()),
)
cdr_ratings = sa.table(
    "cdr_ratings", sa.column("cdr_id", sa.BigInteger()), sa.column("invoice_id", sa.Integer())
)


def _unbillable() -> sa.ColumnElement[bool]:
    # each finding is a quoted token of the stored JSON text, on both databases
    text = sa.cast(cdrs.c.validation_errors, sa.Text())
    return sa.or_(*(text.like(f'%"{reason}"%') for reason in UNBILLABLE))


def upgrade() -> None:
    op.execute(
        sa.update(cdrs)
        .where(
            cdrs.c.status == "invalid",
            cdrs.c.validation_errors.is_not(None),
            sa.not_(_unbillable()),
        )
        .values(status="valid")
    )


def downgrade() -> None:
    # The earlier rule: any finding makes a call invalid, and an invalid call has no
    # rating unless a sent invoice holds it.
    flagged = sa.and_(
        cdrs.c.status == "valid",
        cdrs.c.validation_errors.is_not(None),
        sa.cast(cdrs.c.validation_errors, sa.Text()) != "null",
    )
    op.execute(
        sa.delete(cdr_ratings).where(
            cdr_ratings.c.invoice_id.is_(None),
            cdr_ratings.c.cdr_id.in_(sa.select(cdrs.c.id).where(flagged)),
        )
    )
    op.execute(sa.update(cdrs).where(flagged).values(status="invalid"))
