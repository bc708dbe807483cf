"""How many calls are stored, rejected, rated, unrated and synced: the figures of
/metrics and the dashboard, counted by the database."""
