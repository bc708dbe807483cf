"""The rating engine of RATING.md over Polars frames: frames in, frames out, no database
and no Python loop per CDR. The frames it takes and gives are described in ``frames``.

``rate`` follows the contract section by section, each part labelled with the one it
implements: §1 cleans the number, §2 finds the contract here and the rate in a rate
book (``prefix_index``: the longest-prefix search), §3 counts the billable seconds and
§4 prices the call. Money is integer arithmetic throughout: rates in 10**-8 units, the
cost's exact numerator divided once, rounding half-up (away from zero), to 10**-6.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from telecrm.money import COST_SCALE, RATE_SCALE
from telecrm.numbering import RewriteRules, rewrite_rules
from telecrm.rating.frames import (
    CDR_COLUMNS,
    CONTRACT_COLUMNS,
    RATE_COLUMNS,
    RESULT_SCHEMA,
    RatingError,
)
from telecrm.rating.policy import RatingPolicy
from telecrm.rating.prefix_index import RATE_TYPE_CODE, RateBook
from telecrm.rating.types import ACCOUNTCODE_BLANKS, RateType, RatingStatus, UnratedReason

# RATING.md §1: "Name <number>" keeps the number; these characters are removed.
NAME_ADDR_PATTERN = r"<([^<>]*)>[ \t]*$"
REMOVED_CHARACTERS = (" ", "\t", '"', "'", "-", ".", "(", ")")
DIGITS_PATTERN = r"^[0-9]+$"


def rate_book(rates: pl.DataFrame, first: dt.datetime, last: dt.datetime) -> RateBook:
    """``rates`` laid out once for CDRs starting from ``first`` to ``last``, for
    several calls of ``rate`` over parts of that window (a day at a time, say)."""
    _require_columns("rates", rates, RATE_COLUMNS)
    return RateBook.build(rates, first, last)


def rate(
    cdrs: pl.DataFrame,
    contracts: pl.DataFrame,
    rates: pl.DataFrame,
    policy: RatingPolicy,
    book: RateBook | None = None,
) -> pl.DataFrame:
    """Rate every CDR of ``cdrs`` (``frames`` describes the frames), with
    ``book`` (from ``rate_book`` over ``rates``) when given: it must cover their
    start times."""
    _require_columns("cdrs", cdrs, CDR_COLUMNS)
    _require_columns("contracts", contracts, CONTRACT_COLUMNS)
    _require_columns("rates", rates, RATE_COLUMNS)
    if cdrs.is_empty():
        return pl.DataFrame(schema=RESULT_SCHEMA)
    first, last = cdrs.select(
        first=pl.col("start_time").min(), last=pl.col("start_time").max()
    ).row(0)
    if book is None:
        book = RateBook.build(rates, first, last)
    elif not book.first <= first <= last <= book.last:
        raise ValueError(f"the rate book covers {book.first} to {book.last}, not {first} to {last}")
    # RATING.md §2: each account code's contract, looked up once per distinct code
    accounts, rulesets = _accounts(cdrs, contracts, book, policy)
    account = pl.col("accountcode").replace_strict(
        accounts.get_column("accountcode"),
        pl.int_range(accounts.height, dtype=pl.UInt32, eager=True),
        default=None,
    )
    return (
        cdrs.lazy()
        .select(
            "cdr_id",
            "start_time",
            "billsec",
            answered=pl.col("disposition").is_in(_answered_values(cdrs, policy)),  # §3
            number=_without_decoration(pl.col("dst").fill_null("")),  # §1.1
            account=account,
        )
        .with_columns(
            [
                pl.lit(accounts.get_column(column)).gather(pl.col("account")).alias(column)
                for column in ("contract_id", "group", "ruleset")
            ]
        )
        # RATING.md §1.2: a CDR without a contract is still cleaned, with the policy's
        # rules (set 0)
        .with_columns(rule=_first_rule(pl.col("number"), pl.col("ruleset").fill_null(0), rulesets))
        .with_columns(cleaned_number=_rewritten(pl.col("number"), pl.col("rule"), rulesets))
        # RATING.md §1.3-4, §2: the reasons a call is unrated before its rate is sought
        .with_columns(
            digits=pl.col("cleaned_number").str.contains(DIGITS_PATTERN),
            length=pl.col("cleaned_number").str.len_bytes().cast(pl.Int64),
        )
        .with_columns(
            reason=pl.when(~pl.col("digits"))
            .then(pl.lit(UnratedReason.INVALID_NUMBER.value))
            .when(pl.col("length") < policy.min_number_length)
            .then(pl.lit(UnratedReason.INTERNAL.value))
            .when(pl.col("contract_id").is_null())
            .then(pl.lit(UnratedReason.NO_CONTRACT.value))
        )
        # RATING.md §2: the rate of the longest prefix in effect at the call's start
        .with_columns(entry=book.entry())
        .with_columns(book.attributes(pl.col("entry")))
        # RATING.md §3-4: billable seconds and cost
        .select(_priced(book.numerator_dtype(cdrs)))
        .collect()
    )


def _require_columns(name: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {', '.join(missing)}")


# --- RATING.md §1: clean the destination number ---------------------------------------


def _without_decoration(dst: pl.Expr) -> pl.Expr:
    """RATING.md §1.1. The name's pattern has no leading ``.*``: searched for from its
    ``<``, it finds the same last ``<number>`` many times faster."""
    named = dst.str.extract(NAME_ADDR_PATTERN, 1)
    return pl.coalesce(named, dst).str.replace_many(
        list(REMOVED_CHARACTERS), [""] * len(REMOVED_CHARACTERS)
    )


def _flat_rules(rulesets: list[RewriteRules]) -> list[tuple[int, str, str]]:
    return [(index, prefix, new) for index, rules in enumerate(rulesets) for prefix, new in rules]


def _first_rule(number: pl.Expr, ruleset: pl.Expr, rulesets: list[RewriteRules]) -> pl.Expr:
    """RATING.md §1.2: the position (in ``_flat_rules``) of the first rule of the row's
    rule set whose prefix matches, or null. Each test is a cheap ``starts_with``."""
    chosen: Any = None  # a when/then chain, grown one rule at a time
    for position, (index, prefix, _) in enumerate(_flat_rules(rulesets)):
        condition = number.str.starts_with(prefix)
        if len(rulesets) > 1:
            condition = condition & (ruleset == index)
        step = pl.when(condition) if chosen is None else chosen.when(condition)
        chosen = step.then(pl.lit(position, pl.Int64))
    if chosen is None:
        return pl.lit(None, pl.Int64)
    return chosen.otherwise(pl.lit(None, pl.Int64))


def _rewritten(number: pl.Expr, rule: pl.Expr, rulesets: list[RewriteRules]) -> pl.Expr:
    """The chosen rule applied once: its prefix cut off, its replacement put first (one
    string edit per row, whichever rule it is)."""
    rules = _flat_rules(rulesets)
    if not rules:
        return number
    cut = pl.Series([len(prefix) for _, prefix, _ in rules], dtype=pl.Int64)
    new = pl.Series([replacement for _, _, replacement in rules], dtype=pl.String)
    return pl.concat_str(
        [
            pl.lit(new).gather(rule).fill_null(""),
            number.str.slice(pl.lit(cut).gather(rule).fill_null(0)),
        ]
    )


# --- RATING.md §2: find the contract (the rate: prefix_index) -------------------------


def _accounts(
    cdrs: pl.DataFrame, contracts: pl.DataFrame, book: RateBook, policy: RatingPolicy
) -> tuple[pl.DataFrame, list[RewriteRules]]:
    """Each distinct account code of the CDRs, as written, with its contract (matched
    after trimming), the contract's rate group (as a book group) and rule set. Rule set
    0 is the policy's; each distinct override of a contract gets its own number."""
    rulesets: list[RewriteRules] = [policy.rewrite_rules]
    ruleset_of: list[int] = []
    keys: list[str] = []
    for row in contracts.select(CONTRACT_COLUMNS).iter_rows(named=True):
        keys.append(str(row["accountcode"]).strip(ACCOUNTCODE_BLANKS))
        if row["rewrite_rules"] is None:
            ruleset_of.append(0)
            continue
        try:
            rules = rewrite_rules(row["rewrite_rules"])
        except ValueError as exc:
            raise RatingError(f"contract {row['contract_id']}: {exc}") from exc
        if rules not in rulesets:
            rulesets.append(rules)
        ruleset_of.append(rulesets.index(rules))
    table = contracts.select(
        key=pl.Series(keys, dtype=pl.String),
        contract_id=pl.col("contract_id").cast(pl.Int64),
        group=pl.col("rate_group_id").replace_strict(
            book.group_positions, default=None, return_dtype=pl.Int64
        ),
        ruleset=pl.Series(ruleset_of, dtype=pl.Int64),
    )
    shared = table.filter(pl.col("key").is_duplicated())
    if not shared.is_empty():
        ids = ", ".join(str(i) for i in shared.get_column("contract_id").to_list()[:10])
        raise RatingError(f"contracts {ids} share an account code (after trimming)")
    written = cdrs.select(pl.col("accountcode").cast(pl.String).drop_nulls().unique())
    accounts = written.with_columns(
        key=pl.col("accountcode").str.strip_chars(ACCOUNTCODE_BLANKS)
    ).join(table, on="key", how="left")
    return accounts.drop("key"), rulesets


# --- RATING.md §3: billable seconds ---------------------------------------------------


def _answered_values(cdrs: pl.DataFrame, policy: RatingPolicy) -> list[str]:
    """The dispositions in these CDRs that mean answered, compared trimmed and upper
    case: a handful of distinct values, so the comparison runs once per value."""
    values = cdrs.get_column("disposition").drop_nulls().unique().to_list()
    return [value for value in values if value.strip().upper() in policy.answered_dispositions]


def _billable_seconds() -> pl.Expr:
    """``i`` if ``billsec <= i``, else ``i + ceil((billsec - i) / c) * c``; 0 for a call
    that was not answered or lasted no second."""
    billsec = pl.col("billsec").cast(pl.Int64)
    cycle = pl.col("billing_cycle")
    initial = pl.col("initial_increment").fill_null(cycle)
    return (
        pl.when(~pl.col("answered") | (billsec <= 0))
        .then(pl.lit(0, pl.Int64))
        .when(billsec <= initial)
        .then(initial)
        .otherwise(initial + (billsec - initial + cycle - 1) // cycle * cycle)
    )


# --- RATING.md §4: cost ---------------------------------------------------------------


def _cost(billable: pl.Expr, numeric: pl.DataType) -> pl.Expr:
    """The call's cost, exact until it is rounded once to 6 places. ``numeric`` is the
    integer type the cost's numerator fits in (Int64 unless a huge rate or call needs
    Int128)."""
    seconds = billable.cast(numeric)
    rate_units = pl.col("rate_units").cast(numeric)
    fee_units = pl.col("fee_units").cast(numeric)
    per_minute = pl.col("type_code") == RATE_TYPE_CODE[RateType.PER_MINUTE.value]
    # The exact cost in 10**-6 is numerator / denominator, numerator in 10**-8 units
    # (times 60 for a per-minute rate, to keep it whole).
    numerator = (
        pl.when(per_minute)
        .then(fee_units * 60 + seconds * rate_units)
        .when(pl.col("type_code") == RATE_TYPE_CODE[RateType.PER_SECOND.value])
        .then(fee_units + seconds * rate_units)
        .otherwise(fee_units + rate_units)
    )
    scale_down = 10 ** (RATE_SCALE - COST_SCALE)
    denominator = (
        pl.when(per_minute)
        .then(pl.lit(60 * scale_down, numeric))
        .otherwise(pl.lit(scale_down, numeric))
    )
    # half-up, away from zero, as Decimal's ROUND_HALF_UP
    micros = (numerator.abs() * 2 + denominator) // (denominator * 2) * numerator.sign()
    micros = pl.when(billable > 0).then(micros).otherwise(pl.lit(0, numeric))
    return micros.cast(pl.Decimal(38, COST_SCALE)) / 10**COST_SCALE


def _priced(numeric: pl.DataType) -> list[pl.Expr]:
    """The output columns, from a row that knows its reason and rate entry."""
    reason = (
        pl.when(pl.col("reason").is_null() & pl.col("rate_id").is_null())
        .then(pl.lit(UnratedReason.NO_RATE.value))
        .otherwise(pl.col("reason"))
    )
    rated = reason.is_null()
    billable = _billable_seconds()
    cost = _cost(billable, numeric)
    return [
        pl.col("cdr_id"),
        pl.when(rated)
        .then(pl.lit(RatingStatus.RATED.value))
        .otherwise(pl.lit(RatingStatus.UNRATED.value))
        .alias("rating_status"),
        reason.alias("rating_reason"),
        pl.col("contract_id"),
        pl.col("cleaned_number"),
        pl.when(rated).then(pl.col("prefix")).alias("matched_prefix"),
        pl.when(rated).then(pl.col("rate_id")).alias("rate_id"),
        pl.when(rated).then(billable).alias("billable_seconds"),
        pl.when(rated).then(cost).alias("cost"),
    ]
