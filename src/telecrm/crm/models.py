from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telecrm.db import UTCDateTime


class CrmSyncMixin:
    """Every record mirrored from the external CRM: its id there, the CRM's own
    ``updated_at`` when we last took its content, and a pending local change."""

    crm_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    crm_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when a local change could not be written to the CRM: the record differs
    # from the CRM until `telecrm crm push` succeeds, and an extract leaves it alone.
    crm_sync_error: Mapped[str | None] = mapped_column(Text)
