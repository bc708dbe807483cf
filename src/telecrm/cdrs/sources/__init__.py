"""Where CDRs come from: configured sources (a directory of PBX files, an Asterisk CDR
database, HTTP push), fetching a window from them with retries, and the record of
every fetch run."""
