"""The CDR export (``telecrm cdr export``): every call of a window with its rating."""
