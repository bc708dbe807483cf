"""Pushing CDRs to the external CRM as calls: in batches, exactly once (upserted by a
unique key the CRM keeps), with seed 000's Sync_Log of every attempt, backoff retries
of failed CDRs and the CRM's rate limits respected."""
