"""Seed 000's CDR_Status: the life of a CDR (new -> valid | invalid -> rated | unrated ->
invoiced), the validation that decides valid or invalid, and the moves between them."""
