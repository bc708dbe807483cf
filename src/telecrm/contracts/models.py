from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base, Money, TimestampMixin, enum_column_type


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class Contract(TimestampMixin, Base):
    """A customer company: its account code ties its CDRs and invoices to it."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("tax_rate >= 0", name="tax_rate_not_negative"),
        CheckConstraint("payment_terms_days >= 0", name="payment_terms_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200))
    accountcode: Mapped[str] = mapped_column(String(80), unique=True)
    contact_person: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ContractStatus] = mapped_column(
        enum_column_type(ContractStatus, "contract_status"), default=ContractStatus.ACTIVE
    )
    rate_group_id: Mapped[int] = mapped_column(ForeignKey("rate_groups.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3), default="IDR")
    # Percent: 11 means 11 % (Indonesia's PPN). Applied to the invoice subtotal.
    tax_rate: Mapped[Decimal] = mapped_column(Money(scale=4, precision=9), default=Decimal(0))
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    # Number rewrite rules overriding the installation's (RATING.md §1):
    # a list of [prefix, replacement] pairs, first match applied once.
    rewrite_rules: Mapped[list[Any] | None] = mapped_column(JSON)
    # The CRM account this customer is (telecrm.accounts); optional.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), index=True
    )
