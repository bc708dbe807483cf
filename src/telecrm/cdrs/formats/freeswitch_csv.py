"""FreeSWITCH's ``mod_cdr_csv`` with its default template, ``example``
(``conf/autoload_configs/cdr_csv.conf.xml``): caller_id_name, caller_id_number,
destination_number, context, start_stamp, answer_stamp, end_stamp, duration, billsec,
hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec, every field
quoted. Stamps are the switch's local time.
"""

from __future__ import annotations

import polars as pl

from telecrm.cdrs.formats.base import Chunk, Parsed, canonical, csv_fields

NAME = "freeswitch-csv"

LAYOUT = (
    "caller_id_name",
    "src",
    "dst",
    "dcontext",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "hangup_cause",
    "uniqueid",
    "",  # bleg_uuid: the other leg has a CDR of its own
    "accountcode",
    "",  # read_codec
    "",  # write_codec
)

# Hangup causes (Q.850 names, as FreeSWITCH writes them) of calls nobody picked up,
# mapped to Asterisk's dispositions, which the rating policy speaks.
_NO_ANSWER = ("NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT")


def freeswitch_columns(name: pl.Expr, cause: pl.Expr) -> list[pl.Expr]:
    """What FreeSWITCH says differently from Asterisk: the caller as ``"Name" <number>``
    (Asterisk's clid), the outcome as a disposition, the call's uuid as its identity
    (a leg has one uuid in every format FreeSWITCH writes)."""
    answered = (pl.col("answer").fill_null("") != "") | (
        pl.col("billsec").cast(pl.Int64, strict=False).fill_null(0) > 0
    )
    return [
        pl.when(name.fill_null("") != "")
        .then(pl.format('"{}" <{}>', name, pl.col("src").fill_null("")))
        .otherwise(pl.col("src"))
        .alias("clid"),
        pl.when(answered)
        .then(pl.lit("ANSWERED"))
        .when(cause == "USER_BUSY")
        .then(pl.lit("BUSY"))
        .when(cause.is_in(_NO_ANSWER))
        .then(pl.lit("NO ANSWER"))
        .otherwise(pl.lit("FAILED"))
        .alias("disposition"),
        pl.concat_str(
            [pl.lit("freeswitch"), pl.col("uniqueid").fill_null("")], separator="\x1f"
        ).alias("identity"),
    ]


def parse(chunk: Chunk) -> Parsed:
    by_count, rejects = csv_fields(chunk, (len(LAYOUT),))
    rows = canonical(by_count[len(LAYOUT)], LAYOUT)
    rows = rows.with_columns(
        freeswitch_columns(pl.col("caller_id_name"), pl.col("hangup_cause"))
    ).drop("caller_id_name", "hangup_cause")
    return Parsed(rows, rejects, chunk.nul_free)
