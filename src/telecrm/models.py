"""Every domain's ORM models, imported so that ``Base.metadata`` is the whole schema
(Alembic and the schema-drift test read it)."""

from telecrm.audit.models import AuditEntry
from telecrm.auth.models import ApiKey, User
from telecrm.cdrs.models import Cdr, CdrImport, CdrReject
from telecrm.contracts.models import Contract
from telecrm.db import Base
from telecrm.invoices.models import Invoice, InvoiceLine, InvoiceSequence
from telecrm.rates.models import Rate, RateGroup

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Cdr",
    "CdrImport",
    "CdrReject",
    "Contract",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "Rate",
    "RateGroup",
    "User",
]
