"""One parser per PBX file format; each turns whole lines into calls and rejects, and
never touches the database. ``PARSERS`` names them as ``telecrm cdr import`` does."""

from __future__ import annotations

import enum
from collections.abc import Callable

from telecrm.cdrs.formats import asterisk_csv, asterisk_custom, freeswitch_csv, freeswitch_json
from telecrm.cdrs.formats.base import Chunk, Parsed


class FileFormat(enum.StrEnum):
    ASTERISK_CSV = asterisk_csv.NAME
    ASTERISK_CUSTOM = asterisk_custom.NAME
    FREESWITCH_CSV = freeswitch_csv.NAME
    FREESWITCH_JSON = freeswitch_json.NAME


PARSERS: dict[FileFormat, Callable[[Chunk], Parsed]] = {
    FileFormat.ASTERISK_CSV: asterisk_csv.parse,
    FileFormat.ASTERISK_CUSTOM: asterisk_custom.parse,
    FileFormat.FREESWITCH_CSV: freeswitch_csv.parse,
    FileFormat.FREESWITCH_JSON: freeswitch_json.parse,
}
