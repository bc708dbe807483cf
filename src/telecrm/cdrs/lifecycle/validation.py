"""The checks every stored CDR passes before it is rated or pushed to the CRM.

Pure and vectorised: a Polars frame of CDRs in, each CDR's list of findings out (empty
when nothing is wrong with it). Every failed check is listed, not only the first, so
whoever fixes the PBX sees everything wrong with a record at once.

A finding makes the call invalid (never rated, never billed) only when it is in
``UNBILLABLE``: when a field RATING.md bills by (start time, billsec, disposition) is
missing or contradicts itself. The others are reported while the call is billed: the
caller's number never excludes a call, and a called number that is not a number is
rating's ``invalid_number`` (RATING.md §1), not validation's to decide."""

from __future__ import annotations

import enum

import polars as pl


class Reason(enum.StrEnum):
    MISSING_SRC = "missing_src"
    MISSING_DST = "missing_dst"
    MISSING_START_TIME = "missing_start_time"
    MISSING_DISPOSITION = "missing_disposition"
    END_BEFORE_START = "end_before_start"
    BILLSEC_EXCEEDS_DURATION = "billsec_exceeds_duration"
    UNKNOWN_DISPOSITION = "unknown_disposition"
    SRC_NOT_A_NUMBER = "src_not_a_number"
    DST_NOT_A_NUMBER = "dst_not_a_number"


# The findings that make a call unbillable (README, "Validation and status", says why
# for each); every other finding is reported and the call is still rated.
UNBILLABLE: frozenset[Reason] = frozenset(
    {
        Reason.MISSING_START_TIME,
        Reason.MISSING_DISPOSITION,
        Reason.UNKNOWN_DISPOSITION,
        Reason.BILLSEC_EXCEEDS_DURATION,
    }
)
UNBILLABLE_VALUES = sorted(reason.value for reason in UNBILLABLE)

# Asterisk's dispositions (cdr.h); the FreeSWITCH parsers map hangup causes onto them.
KNOWN_DISPOSITIONS = ["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"]

REASON_TEXT: dict[Reason, str] = {
    Reason.MISSING_SRC: "no calling number (src)",
    Reason.MISSING_DST: "no called number (dst)",
    Reason.MISSING_START_TIME: "no start time",
    Reason.MISSING_DISPOSITION: "no disposition",
    Reason.END_BEFORE_START: "the call ends before it starts",
    Reason.BILLSEC_EXCEEDS_DURATION: "billsec is longer than duration",
    Reason.UNKNOWN_DISPOSITION: "the disposition is none of " + ", ".join(KNOWN_DISPOSITIONS),
    Reason.SRC_NOT_A_NUMBER: "the calling number is not a phone number or extension",
    Reason.DST_NOT_A_NUMBER: "the called number is not a phone number or extension",
}

COLUMNS = ["id", "src", "dst", "start_time", "end_time", "duration", "billsec", "disposition"]

# After the clean-up of RATING.md §1.1 (a "Name <number>" form, quotes, spaces, - . ( )),
# a number is digits with an optional leading +.
_DIALABLE = r"^\+?[0-9]+$"
_NOISE = r"[\"'\s\-\.\(\)]"


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")


def _not_a_number(column: str) -> pl.Expr:
    bracketed = pl.col(column).str.extract(r"<([^>]*)>", 1)
    number = pl.coalesce(bracketed, pl.col(column)).str.replace_all(_NOISE, "")
    return ~_blank(column) & ~number.str.contains(_DIALABLE)


def unbillable(reasons: pl.Expr) -> pl.Expr:
    """Whether a list of findings (``reasons``) makes the call invalid."""
    return reasons.list.eval(pl.element().is_in(UNBILLABLE_VALUES)).list.any()


def validate(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` has ``COLUMNS``; the result has ``id`` and ``reasons`` (a list of
    ``Reason`` values, in the order of the enum; empty when nothing was found)."""
    failed = flagged(frame)
    if failed.is_empty():
        return frame.select("id", reasons=pl.lit([], pl.List(pl.String)))
    return (
        frame.select("id")
        .with_row_index("row")
        .join(failed.select("row", "reasons"), on="row", how="left", maintain_order="left")
        .select("id", pl.col("reasons").fill_null([]))
    )


def flagged(frame: pl.DataFrame) -> pl.DataFrame:
    """The CDRs of ``frame`` (which has ``COLUMNS``) that fail a check, in its order:
    ``id``, ``row`` (the position in ``frame``) and ``reasons`` (as ``validate``),
    whether the findings make them unbillable or not."""
    # Most CDRs have plain numbers and a known disposition: the cheap checks below
    # clear them, and the regular expressions only run on the others.
    suspects = frame.with_row_index("row").filter(~_surely_valid().fill_null(False))
    reasons = suspects.select("id", "row", reasons=_reasons())
    return reasons.filter(pl.col("reasons").list.len() > 0)


def _surely_valid() -> pl.Expr:
    """True only for a CDR no check fails (the converse need not hold)."""
    return (
        pl.col("src").str.contains(_DIALABLE)
        & pl.col("dst").str.contains(_DIALABLE)
        & pl.col("start_time").is_not_null()
        & pl.col("disposition").is_in(KNOWN_DISPOSITIONS)
        & (pl.col("end_time") >= pl.col("start_time")).fill_null(True)
        & (pl.col("billsec") <= pl.col("duration")).fill_null(True)
    )


def _reasons() -> pl.Expr:
    checks: dict[Reason, pl.Expr] = {
        Reason.MISSING_SRC: _blank("src"),
        Reason.MISSING_DST: _blank("dst"),
        Reason.MISSING_START_TIME: pl.col("start_time").is_null(),
        Reason.MISSING_DISPOSITION: _blank("disposition"),
        Reason.END_BEFORE_START: pl.col("end_time") < pl.col("start_time"),
        Reason.BILLSEC_EXCEEDS_DURATION: pl.col("billsec") > pl.col("duration"),
        Reason.UNKNOWN_DISPOSITION: ~_blank("disposition")
        & ~pl.col("disposition").str.strip_chars().str.to_uppercase().is_in(KNOWN_DISPOSITIONS),
        Reason.SRC_NOT_A_NUMBER: _not_a_number("src"),
        Reason.DST_NOT_A_NUMBER: _not_a_number("dst"),
    }
    flagged = [
        pl.when(check.fill_null(False)).then(pl.lit(reason.value)).otherwise(None)
        for reason, check in checks.items()
    ]
    return pl.concat_list(flagged).list.drop_nulls()
