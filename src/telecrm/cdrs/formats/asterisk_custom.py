"""Asterisk's ``cdr_custom`` backend with the mapping of its sample configuration
(``configs/samples/cdr_custom.conf.sample``): every field through ``CSV_QUOTE``, in
the order clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, start,
answer, end, duration, billsec, disposition, amaflags, accountcode, uniqueid,
userfield (18 fields), and since Asterisk 12 an unquoted ``sequence`` (19).
"""

from __future__ import annotations

import polars as pl

from telecrm.cdrs.formats.asterisk_csv import asterisk_identity
from telecrm.cdrs.formats.base import Chunk, Parsed, canonical, csv_fields

NAME = "asterisk-custom"

BASE = (
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "accountcode",
    "uniqueid",
    "userfield",
)
LAYOUTS = {18: BASE, 19: (*BASE, "sequence")}


def parse(chunk: Chunk) -> Parsed:
    by_count, rejects = csv_fields(chunk, tuple(LAYOUTS))
    rows = pl.concat([canonical(frame, LAYOUTS[count]) for count, frame in by_count.items()])
    return Parsed(rows.with_columns(identity=asterisk_identity()), rejects, chunk.nul_free)
