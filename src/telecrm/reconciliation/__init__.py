"""Revenue assurance: every call of a month in exactly one bucket, per contract, and
the buckets' money tied out to the invoices (``telecrm billing reconcile``)."""
