"""The CDR listing API: a contract's calls, filtered and paged, and one call."""
