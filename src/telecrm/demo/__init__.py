"""``telecrm demo``: a realistic data set so that a new user sees data at once.
Each domain adds one step; every step is idempotent (running the demo twice
leaves the same data)."""
