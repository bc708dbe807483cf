"""Every domain's ORM models, imported so that ``Base.metadata`` is the whole schema
(Alembic and the schema-drift test read it)."""

from telecrm.audit.models import AuditEntry
from telecrm.auth.models import ApiKey, User
from telecrm.db import Base

__all__ = ["ApiKey", "AuditEntry", "Base", "User"]
