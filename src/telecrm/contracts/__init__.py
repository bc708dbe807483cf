"""Contracts: the customer companies, their account codes and rate groups."""
