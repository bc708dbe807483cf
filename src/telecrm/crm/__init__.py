"""The external CRM: a connector interface, its HubSpot implementation, and the
generic service and repository that the CRM domains (accounts, contacts, deals)
are built on."""
