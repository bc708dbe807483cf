from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, Money, TimestampMixin, UTCDateTime, enum_column_type
from telecrm.money import RATE_SCALE
from telecrm.rating.types import RateType


class RateGroup(TimestampMixin, Base):
    __tablename__ = "rate_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    memo: Mapped[str | None] = mapped_column(Text)


class Rate(TimestampMixin, Base):
    """The price of calls to one destination prefix (``rate_prefix + area_prefix``)
    within a rate group, in effect from ``effective_from`` (inclusive) to
    ``effective_to`` (exclusive); an empty bound is open."""

    __tablename__ = "rates"
    __table_args__ = (
        CheckConstraint("billing_cycle >= 1", name="billing_cycle_positive"),
        CheckConstraint(
            "initial_increment IS NULL OR initial_increment >= 1", name="initial_increment_positive"
        ),
        CheckConstraint(
            "effective_to IS NULL OR effective_from IS NULL OR effective_to > effective_from",
            name="effective_range",
        ),
        Index("ix_rates_group_prefix", "rate_group_id", "rate_prefix", "area_prefix"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rate_group_id: Mapped[int] = mapped_column(ForeignKey("rate_groups.id", ondelete="CASCADE"))
    rate_prefix: Mapped[str] = mapped_column(String(20))
    area_prefix: Mapped[str] = mapped_column(String(20), default="", server_default="")
    description: Mapped[str | None] = mapped_column(String(200))
    rate_type: Mapped[RateType] = mapped_column(enum_column_type(RateType, "rate_type"))
    billing_rate: Mapped[Decimal] = mapped_column(Money(scale=RATE_SCALE))
    billing_cycle: Mapped[int] = mapped_column(Integer)
    initial_increment: Mapped[int | None] = mapped_column(Integer)
    connect_fee: Mapped[Decimal] = mapped_column(
        Money(scale=RATE_SCALE), default=Decimal(0), server_default="0"
    )
    effective_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    effective_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def destination_prefix(self) -> str:
        return self.rate_prefix + (self.area_prefix or "")
