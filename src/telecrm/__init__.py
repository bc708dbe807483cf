"""telecrm: telecom CRM and billing."""

__version__ = "0.1.0"
