"""Every domain's ORM models, imported so that ``Base.metadata`` is the whole schema
(Alembic and the schema-drift test read it), and every layer's answers to the
questions of the layers below it (``telecrm.usage``)."""

import telecrm.cdrs.usage
import telecrm.contracts.usage
import telecrm.invoices.usage  # noqa: F401
from telecrm.accounts.models import Account
from telecrm.audit.models import AuditEntry
from telecrm.auth.models import ApiKey, LoginFailure, User
from telecrm.cdrs.crm_sync.models import CrmDailyUsage, SyncLog
from telecrm.cdrs.lifecycle.models import CdrStatus
from telecrm.cdrs.models import Cdr, CdrImport, CdrReject
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource
from telecrm.contacts.models import Contact
from telecrm.contracts.models import Contract
from telecrm.db import Base
from telecrm.deals.models import Deal
from telecrm.invoices.models import Invoice, InvoiceLine, InvoiceSequence
from telecrm.jobs.models import Job
from telecrm.rates.models import Rate, RateGroup
from telecrm.reports.models import DealAggregation

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Cdr",
    "CdrFetchRun",
    "CdrImport",
    "CdrReject",
    "CdrSource",
    "CdrStatus",
    "Contact",
    "Contract",
    "CrmDailyUsage",
    "Deal",
    "DealAggregation",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "Job",
    "LoginFailure",
    "Rate",
    "RateGroup",
    "SyncLog",
    "User",
]
