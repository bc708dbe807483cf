from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, Money, TimestampMixin, enum_column_type


class AggregationKind(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class DealAggregation(TimestampMixin, Base):
    """The deals of one account in one period (UTC day, Monday-started week, month),
    labelled by the period's first day. Derived data: recomputed, never edited."""

    __tablename__ = "deal_aggregations"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "aggregation_type",
            "aggregation_date",
            name="uq_deal_aggregations_account_period",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="CASCADE"), index=True
    )
    aggregation_type: Mapped[AggregationKind] = mapped_column(
        enum_column_type(AggregationKind, "aggregation_kind")
    )
    aggregation_date: Mapped[dt.date] = mapped_column(Date)
    total_deal_size: Mapped[Decimal] = mapped_column(Money(scale=2))
    deal_count: Mapped[int] = mapped_column(Integer)
