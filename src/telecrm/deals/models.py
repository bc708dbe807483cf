from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.crm.models import CrmSyncMixin
from telecrm.db import Base, Money, TimestampMixin, enum_column_type


class DealStage(enum.StrEnum):
    PROSPECTING = "Prospecting"
    NEGOTIATION = "Negotiation"
    CLOSED_WON = "Closed-Won"
    CLOSED_LOST = "Closed-Lost"


class Deal(CrmSyncMixin, TimestampMixin, Base):
    """``created_at`` is when the deal was created in the CRM (the seed's column,
    which the aggregations group by); a deal created through telecrm gets now."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(Integer, unique=True)
    deal_name: Mapped[str] = mapped_column(String(255))
    deal_size: Mapped[Decimal | None] = mapped_column(Money(scale=2))
    probability_of_closure: Mapped[str] = mapped_column(String(50))
    deal_stage: Mapped[DealStage] = mapped_column(enum_column_type(DealStage, "deal_stage"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="RESTRICT"), index=True
    )
