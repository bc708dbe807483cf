"""One parser per PBX file format; each yields rows and rejects, never touches the database."""
