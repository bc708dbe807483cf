"""The rating engine of RATING.md: pure functions over Polars frames, no database."""
