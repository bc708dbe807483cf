"""The monthly partitions of ``cdrs`` and ``cdr_ratings`` on PostgreSQL: made ahead of
time, listed, and archived to Parquet and dropped past retention."""
