"""Deals: the opportunities of each account, and their aggregation per period."""
