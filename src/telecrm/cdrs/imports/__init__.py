"""The CDR file import: PBX files read in batches, each call stored once and
validated, bad rows kept as rejects; its API lists the imports and their rejects."""
