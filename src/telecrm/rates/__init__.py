"""Rate groups and their rates (the rate decks)."""
