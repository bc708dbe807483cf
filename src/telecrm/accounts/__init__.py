"""Accounts: the customer organisations of the CRM (HubSpot companies)."""
