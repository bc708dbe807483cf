"""Users, roles, passwords, tokens, API keys and the ``require`` dependency."""
