from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.crm.models import CrmSyncMixin
from telecrm.db import Base, TimestampMixin, enum_column_type


class LeadSource(enum.StrEnum):
    WEBSITE = "Website"
    REFERRAL = "Referral"
    EMAIL_CAMPAIGN = "Email Campaign"


class Contact(CrmSyncMixin, TimestampMixin, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    # E.164 (+6281234567890): calls are matched to contacts by this exact string.
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    job_title: Mapped[str | None] = mapped_column(String(150))
    lead_source: Mapped[LeadSource] = mapped_column(enum_column_type(LeadSource, "lead_source"))
    last_contact_date: Mapped[dt.date | None] = mapped_column(Date)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.account_id", ondelete="SET NULL"), index=True
    )
