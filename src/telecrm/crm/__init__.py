"""The external CRM and what the CRM domains (accounts, contacts, deals) share: the
connector interface and its HubSpot implementation, the generic service (with its
cleaning, casting, export and write-through) and repository, the account link, and
the router factory. The domains import the base modules; ``hubspot``, ``sync``,
``dependencies``, ``routes`` and ``cli`` sit above the domains."""
