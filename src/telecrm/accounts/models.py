from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.crm.models import CrmSyncMixin
from telecrm.db import Base, Money, TimestampMixin, enum_column_type


class Region(enum.StrEnum):
    NORTH_AMERICA = "North America"
    EUROPE = "Europe"
    ASIA = "Asia"


class Account(CrmSyncMixin, TimestampMixin, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The business id: deals and contacts refer to it, and the CRM finds the record by it.
    account_id: Mapped[int] = mapped_column(Integer, unique=True)
    account_name: Mapped[str] = mapped_column(String(255))
    industry: Mapped[str] = mapped_column(String(100))
    account_value: Mapped[Decimal] = mapped_column(Money(scale=2))
    region: Mapped[Region] = mapped_column(enum_column_type(Region, "region"))
