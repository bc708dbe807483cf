"""Reports: deal aggregations per account and period."""
