from __future__ import annotations

import enum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import Base


class CdrState(enum.StrEnum):
    """The values of ``cdrs.status``; each is a row of ``cdr_status`` (the migration
    writes them), which ``cdrs.status`` references."""

    NEW = "new"  # stored, not validated yet
    VALID = "valid"  # passed validation, waiting to be rated
    INVALID = "invalid"  # failed validation; cdrs.validation_errors says why
    RATED = "rated"  # has its cost
    UNRATED = "unrated"  # could not be rated; cdrs.rating_reason says why
    INVOICED = "invoiced"  # on an invoice


class CdrStatus(Base):
    """Seed 000's CDR_Status table: reference data, one row per ``CdrState``."""

    __tablename__ = "cdr_status"

    status_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
