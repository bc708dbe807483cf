"""Asterisk's ``cdr_csv`` backend: ``/var/log/asterisk/cdr-csv/Master.csv``.

Column order from ``cdr/cdr_csv.c`` (``build_csv_record``): 16 fields, then
``uniqueid`` and ``userfield`` when ``loguniqueid``/``loguserfield`` are on (18), then
``peeraccount``, ``linkedid`` and ``sequence`` when ``newcdrcolumns`` is on (21). Texts
are quoted with quotes doubled; an unanswered call's answer time is empty. Times are
the PBX's local time unless ``usegmtime`` is on (import with ``--timezone UTC`` then).
"""

from __future__ import annotations

import polars as pl

from telecrm.cdrs.formats.base import CANONICAL, Chunk, Parsed, canonical, csv_fields

NAME = "asterisk-csv"

# cdr_csv.c writes the canonical fields in their order: the first 16, then
# uniqueid and userfield (18), then peeraccount, linkedid and sequence (21).
LAYOUTS = {count: CANONICAL[:count] for count in (16, 18, 21)}


def asterisk_identity() -> pl.Expr:
    """An Asterisk call is all it wrote about itself: two CDRs alike in every field
    (the channel names carry a per-call counter) are the same call written twice."""
    return pl.concat_str(
        [pl.lit("asterisk"), *(pl.col(name).fill_null("") for name in CANONICAL)],
        separator="\x1f",
    )


def parse(chunk: Chunk) -> Parsed:
    by_count, rejects = csv_fields(chunk, tuple(LAYOUTS))
    rows = pl.concat([canonical(frame, LAYOUTS[count]) for count, frame in by_count.items()])
    return Parsed(rows.with_columns(identity=asterisk_identity()), rejects, chunk.nul_free)
