"""Call detail records: storage, import from PBX files, rejected rows."""
