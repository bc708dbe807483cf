"""Contacts: the people of the CRM, with their phone numbers in E.164."""
