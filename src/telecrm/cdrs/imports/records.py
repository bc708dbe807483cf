"""From what a PBX wrote to what the ``cdrs`` table stores: times read in the file's
time zone and stored as UTC instants, numbers checked, and each call's unique key.
Pure functions over frames; a row that cannot be stored comes back as a reject with
the reason, and the others go on.

The unique key of a call is ``<start as written, digits only>-<SHA-256 of its
identity, first 40 hex digits>``. The identity of a FreeSWITCH call is its leg's uuid
(the same in its CSV and JSON CDRs); an Asterisk call's is every field of its CDR as
written (the channel names carry a per-call counter, so two different calls never
write the same line). Both come from the text as written, never from the time zone
given at import, so re-importing a file, or a file that overlaps it, finds the same
keys. The start time in front keeps keys in time order: a new batch's keys land at the
end of the unique index, instead of all over it.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import polars_hash as plh

from telecrm.cdrs.formats.base import CANONICAL, REJECT_SCHEMA, empty_rejects
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
KEY_HASH_DIGITS = 40
INT32_MAX = 2**31 - 1
NUL = "\x00"

# Text that decides what a call costs or who pays it: a value too long for its column
# is a reject (never cut). The other texts describe the call and are cut to fit.
_BILLING_TEXT = ("accountcode", "src", "dst", "disposition", "peeraccount", "linkedid")
_DESCRIPTIVE_TEXT: tuple[str, ...] = (
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "amaflags",
    "userfield",
)


def _length(column: str) -> int:
    length: int = Cdr.__table__.c[column].type.length  # type: ignore[attr-defined]
    return length


def stored_rows(
    rows: pl.DataFrame,
    zone: str,
    source: str | None,
    import_id: int | None,
    nul_free: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``rows`` as parsed (see ``formats.base``) -> (rows with the ``cdrs`` columns an
    import fills, plus ``line``; rejects with ``line`` and ``reason``). ``nul_free``:
    the rows are known to hold no NUL, which need not be looked for then."""
    ZoneInfo(zone)  # an unknown zone fails here, before any row is judged by it
    times = {
        name: pl.col(name)
        .str.to_datetime(TIME_FORMAT, strict=False, time_unit="us")
        .alias(f"{name}_local")
        for name in ("start", "answer", "end")
    }
    frame = rows.with_columns(times.values()).with_columns(
        [
            pl.col(f"{name}_local")
            .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .alias(f"{name}_time")
            for name in times
        ]
        + [
            pl.col(name).str.strip_chars().cast(pl.Int64, strict=False).alias(f"{name}_number")
            for name in ("duration", "billsec", "sequence")
        ]
    )
    # The checks are cheap; saying why a row fails is not: only failing rows are told.
    checks = _checks(zone, nul_free)
    failing = frame.select(
        pl.any_horizontal(condition.fill_null(False) for condition, _ in checks)
    ).to_series()
    if failing.any():
        rejects = frame.filter(failing).select("line", reason=_first_reason(checks))
        good = frame.filter(~failing)
    else:
        rejects, good = empty_rejects(), frame
    stored = good.select(
        unique_key=pl.concat_str(
            [
                _digits(good.get_column("start")),
                plh.col("identity").chash.sha2_256().str.slice(0, KEY_HASH_DIGITS),
            ],
            separator="-",
        ),
        call_id=pl.when(pl.col("uniqueid").fill_null("") != "").then(pl.col("uniqueid")),
        source=pl.lit(source, pl.String),
        import_id=pl.lit(import_id, pl.Int32),
        **{name: pl.col(name).fill_null("") for name in ("accountcode", "src", "dst")},
        **{name: pl.col(name).str.slice(0, _length(name)) for name in _DESCRIPTIVE_TEXT[:6]},
        start_time="start_time",
        answer_time="answer_time",
        end_time="end_time",
        duration=pl.col("duration_number").cast(pl.Int32),
        billsec=pl.col("billsec_number").cast(pl.Int32),
        disposition=pl.col("disposition").fill_null(""),
        **{name: pl.col(name).str.slice(0, _length(name)) for name in _DESCRIPTIVE_TEXT[6:]},
        peeraccount="peeraccount",
        linkedid="linkedid",
        sequence="sequence_number",
        status=pl.lit(CdrState.NEW.value),
        sync_status=pl.lit("pending"),
        line="line",
    )
    return stored, rejects.cast(dict(REJECT_SCHEMA))  # type: ignore[arg-type]


_PLAIN_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def _digits(start: pl.Series) -> pl.Expr:
    """The start time as written, digits only. When every start is written exactly as
    ``TIME_FORMAT`` writes it (as PBXes do), dropping its three separators gives the
    same text as the regular expression, for a third of its cost."""
    column = pl.col(start.name)
    if start.str.contains(_PLAIN_TIME).all():
        for separator in ("-", " ", ":"):
            column = column.str.replace_all(separator, "", literal=True)
        return column
    return column.str.replace_all(r"[^0-9]", "")


def _checks(zone: str, nul_free: bool) -> list[tuple[pl.Expr, pl.Expr]]:
    """Each reason a row cannot be stored: (when it applies, what it says), in order."""
    # PostgreSQL's text cannot hold a NUL: one such field would fail the whole batch's
    # COPY. Checked first, so that no later reason quotes a value holding one.
    checks: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.col(name).str.contains(NUL, literal=True), pl.lit(f"field {name} contains a NUL byte"))
        for name in ([] if nul_free else CANONICAL)
    ]
    checks.append((pl.col("start").fill_null("") == "", pl.lit("no start time")))
    for name in ("start", "answer", "end"):
        given = pl.col(name).fill_null("") != ""
        checks += [
            (
                given & pl.col(f"{name}_local").is_null(),
                pl.format("{} time {} is not YYYY-MM-DD HH:MM:SS", pl.lit(name), pl.col(name)),
            ),
            (
                given & pl.col(f"{name}_time").is_null(),
                pl.format(
                    "{} time {} does not exist in {} (the clocks skipped it)",
                    pl.lit(name),
                    pl.col(name),
                    pl.lit(zone),
                ),
            ),
        ]
    for name in ("duration", "billsec"):
        number, given = pl.col(f"{name}_number"), pl.col(name).fill_null("")
        checks += [
            (number.is_null(), pl.format("{} {} is not a whole number", pl.lit(name), given)),
            (number < 0, pl.format("{} {} is negative", pl.lit(name), given)),
            (number > INT32_MAX, pl.format("{} {} is too large", pl.lit(name), given)),
        ]
    checks.append(
        (
            (pl.col("sequence").fill_null("") != "") & pl.col("sequence_number").is_null(),
            pl.format("sequence {} is not a whole number", pl.col("sequence")),
        )
    )
    for name in (*_BILLING_TEXT, "uniqueid"):
        limit = _length("call_id" if name == "uniqueid" else name)
        checks.append(
            (
                pl.col(name).str.len_chars() > limit,
                pl.lit(f"{name} is longer than {limit} characters"),
            )
        )
    return checks


def _first_reason(checks: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """Why the row cannot be stored (null: it can): the first problem found."""
    reason: Any = None  # a when/then chain, grown one check at a time
    for condition, text in checks:
        step = pl.when(condition) if reason is None else reason.when(condition)
        reason = step.then(text)
    return reason.otherwise(pl.lit(None, pl.String))
