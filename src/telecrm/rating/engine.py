"""The rating engine of RATING.md over Polars frames: frames in, frames out, no database
and no Python loop per CDR.

Inputs (columns beyond these are ignored):

- ``cdrs``: ``cdr_id``, ``accountcode``, ``dst``, ``start_time`` (UTC), ``billsec``,
  ``disposition``.
- ``contracts``: ``contract_id``, ``accountcode``, ``rate_group_id``, ``rewrite_rules``
  (``[[prefix, replacement], ...]`` or null for the policy's rules).
- ``rates``: ``rate_id``, ``rate_group_id``, ``prefix`` (``rate_prefix + area_prefix``),
  ``rate_type``, ``billing_rate`` and ``connect_fee`` (decimals, at most 8 places),
  ``billing_cycle``, ``initial_increment`` (null: the cycle), ``effective_from`` and
  ``effective_to`` (UTC, null: open).

Output, one row per CDR in input order: ``cdr_id``, ``rating_status`` (``rated`` or
``unrated``), ``rating_reason``, ``contract_id``, ``cleaned_number``, ``matched_prefix``,
``rate_id``, ``billable_seconds``, ``cost`` (``Decimal(38, 6)``).

How the longest prefix is found without a loop per CDR: a digit string of at most 18
digits, left-aligned in 18 decimal places, is an integer below 10**18; the numbers
starting with a prefix of length ``l`` are then exactly the interval
``[prefix * 10**(18-l), (prefix + 1) * 10**(18-l))``. Prefixes form nested or disjoint
intervals, so they cut the line into segments each owned by its innermost prefix: one
sorted search per CDR finds its segment. The rates in effect change only at the
``effective_from``/``to`` instants of a rate group, so each group is cut into epochs
between those instants, with one set of segments ("book") per epoch. Money is integer
arithmetic throughout: rates in 10**-8 units, the cost's exact numerator divided once,
rounding half-up (away from zero), to 10**-6.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from telecrm.money import COST_SCALE, RATE_SCALE
from telecrm.numbering import RewriteRules, rewrite_rules
from telecrm.rating.policy import RatingPolicy
from telecrm.rating.types import RateType, RatingStatus, UnratedReason

MAX_PREFIX_DIGITS = 18  # the widest decimal integer an Int64 holds in every position

CDR_COLUMNS = ("cdr_id", "accountcode", "dst", "start_time", "billsec", "disposition")
CONTRACT_COLUMNS = ("contract_id", "accountcode", "rate_group_id", "rewrite_rules")
RATE_COLUMNS = (
    "rate_id",
    "rate_group_id",
    "prefix",
    "rate_type",
    "billing_rate",
    "connect_fee",
    "billing_cycle",
    "initial_increment",
    "effective_from",
    "effective_to",
)
RESULT_SCHEMA = pl.Schema(
    [
        ("cdr_id", pl.Int64()),
        ("rating_status", pl.String()),
        ("rating_reason", pl.String()),
        ("contract_id", pl.Int64()),
        ("cleaned_number", pl.String()),
        ("matched_prefix", pl.String()),
        ("rate_id", pl.Int64()),
        ("billable_seconds", pl.Int64()),
        ("cost", pl.Decimal(38, COST_SCALE)),
    ]
)

# RATING.md §1: "Name <number>" keeps the number; these characters are removed.
NAME_ADDR_PATTERN = r"<([^<>]*)>[ \t]*$"
REMOVED_CHARACTERS = (" ", "\t", '"', "'", "-", ".", "(", ")")
DIGITS_PATTERN = r"^[0-9]+$"
ACCOUNTCODE_BLANKS = " \t\r\n"

_SPAN = 10**MAX_PREFIX_DIGITS  # a left-aligned number is below this
_BOOK_STRIDE = 2**60  # the smallest power of two above _SPAN: books' keys never overlap
_TIME_SHIFT = 2**62  # makes microseconds since 1970 of any year 1..9999 non-negative
_GROUP_STRIDE = 2**64  # one group's epoch boundaries sort apart from the next group's
_POWERS_OF_TEN = {k: 10**k for k in range(MAX_PREFIX_DIGITS + 1)}
_RATE_TYPE_CODE = {
    RateType.PER_SECOND.value: 0,
    RateType.PER_MINUTE.value: 1,
    RateType.FLAT_RATE.value: 2,
}


class RatingError(ValueError):
    """The reference data cannot be rated as it is (a rate whose prefix is not digits,
    two contracts with one account code...): nothing is rated until it is fixed."""


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
    """Rate every CDR of ``cdrs`` (see the module's docstring for the frames), with
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
            answered=pl.col("disposition").is_in(_answered_values(cdrs, policy)),
            number=_without_decoration(pl.col("dst").fill_null("")),
            account=account,
        )
        .with_columns(
            [
                pl.lit(accounts.get_column(column)).gather(pl.col("account")).alias(column)
                for column in ("contract_id", "group", "ruleset")
            ]
        )
        # a CDR without a contract is still cleaned, with the policy's rules (set 0)
        .with_columns(rule=_first_rule(pl.col("number"), pl.col("ruleset").fill_null(0), rulesets))
        .with_columns(cleaned_number=_rewritten(pl.col("number"), pl.col("rule"), rulesets))
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
        .with_columns(entry=book.entry())
        .with_columns(book.attributes(pl.col("entry")))
        .select(_priced(book.numerator_dtype(cdrs)))
        .collect()
    )


def _require_columns(name: str, frame: pl.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks column(s) {', '.join(missing)}")


def _answered_values(cdrs: pl.DataFrame, policy: RatingPolicy) -> list[str]:
    """The dispositions in these CDRs that mean answered, compared trimmed and upper
    case: a handful of distinct values, so the comparison runs once per value."""
    values = cdrs.get_column("disposition").drop_nulls().unique().to_list()
    return [value for value in values if value.strip().upper() in policy.answered_dispositions]


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


def _priced(numeric: pl.DataType) -> list[pl.Expr]:
    """The output columns, from a row that knows its reason and rate entry. ``numeric``
    is the integer type the cost's numerator fits in (Int64 unless a huge rate or call
    needs Int128)."""
    reason = (
        pl.when(pl.col("reason").is_null() & pl.col("rate_id").is_null())
        .then(pl.lit(UnratedReason.NO_RATE.value))
        .otherwise(pl.col("reason"))
    )
    rated = reason.is_null()
    billsec = pl.col("billsec").cast(pl.Int64)
    cycle = pl.col("billing_cycle")
    initial = pl.col("initial_increment").fill_null(cycle)
    billable = (
        pl.when(~pl.col("answered") | (billsec <= 0))
        .then(pl.lit(0, pl.Int64))
        .when(billsec <= initial)
        .then(initial)
        .otherwise(initial + (billsec - initial + cycle - 1) // cycle * cycle)
    )
    seconds = billable.cast(numeric)
    rate_units = pl.col("rate_units").cast(numeric)
    fee_units = pl.col("fee_units").cast(numeric)
    per_minute = pl.col("type_code") == _RATE_TYPE_CODE[RateType.PER_MINUTE.value]
    # The exact cost in 10**-6 is numerator / denominator, numerator in 10**-8 units
    # (times 60 for a per-minute rate, to keep it whole).
    numerator = (
        pl.when(per_minute)
        .then(fee_units * 60 + seconds * rate_units)
        .when(pl.col("type_code") == _RATE_TYPE_CODE[RateType.PER_SECOND.value])
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
    cost = micros.cast(pl.Decimal(38, COST_SCALE)) / 10**COST_SCALE
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


@dataclass(frozen=True)
class RateBook:
    """The rates laid out for the sorted search. ``entries``: one row per rate in effect
    in a book, numbered by ``entry``; ``segment_keys``: sorted ``book * 2**60 + start
    of segment``, each owned by the entry in ``segment_owners`` (null: no prefix covers
    it); ``boundaries``: sorted ``group * 2**64 + shifted microseconds`` of the instants
    where a group's rates change while the CDRs are being rated."""

    first: dt.datetime
    last: dt.datetime
    group_positions: dict[int, int]
    boundaries: pl.Series
    entries: pl.DataFrame
    fitting: pl.Series  # entry * 19 + length -> the longest ancestor-or-self that fits
    segment_keys: pl.Series
    segment_owners: pl.Series

    @classmethod
    def build(cls, rates: pl.DataFrame, first: dt.datetime, last: dt.datetime) -> RateBook:
        """The book for CDRs that start from ``first`` to ``last``: rates in effect
        only outside that time are left out, and only changes inside it cut epochs."""
        rates = _checked_rates(rates).filter(
            (pl.col("effective_to").is_null() | (pl.col("effective_to") > first))
            & (pl.col("effective_from").is_null() | (pl.col("effective_from") <= last))
        )
        groups = rates.get_column("rate_group_id").unique().sort().to_list()
        group_positions = {group: position for position, group in enumerate(groups)}
        rates = rates.with_columns(
            group=pl.col("rate_group_id").replace_strict(group_positions, return_dtype=pl.Int64)
        )
        bounds = (
            pl.concat(
                [
                    rates.select("group", instant=pl.col(column))
                    for column in ("effective_from", "effective_to")
                ]
            )
            .filter((pl.col("instant") > first) & (pl.col("instant") <= last))
            .unique()
            .sort("group", "instant")
        )
        boundaries = bounds.select(
            pl.col("group").cast(pl.Int128) * _int128(_GROUP_STRIDE)
            + _shifted_micros(pl.col("instant")).cast(pl.Int128)
        ).to_series()
        # A book is one epoch of one group: from the first CDR's start, or from a
        # change of the group's rates, to the next change. Numbered in (group, start)
        # order, a book's number is its group's position plus the count of changes,
        # of its own group and of those before, up to its start: what ``entry`` gets
        # from one search in ``boundaries``.
        books = (
            pl.concat(
                [
                    pl.DataFrame({"group": range(len(groups))}, schema={"group": pl.Int64}),
                    bounds,
                ],
                how="diagonal",
            )
            .with_columns(instant=pl.col("instant").fill_null(first))
            .sort("group", "instant")
            .with_columns(book=pl.int_range(pl.len(), dtype=pl.Int64))
        )
        in_effect = (
            books.join(rates, on="group")
            .filter(
                (
                    pl.col("effective_from").is_null()
                    | (pl.col("effective_from") <= pl.col("instant"))
                )
                & (pl.col("effective_to").is_null() | (pl.col("instant") < pl.col("effective_to")))
            )
            # Two rates for one prefix in effect at once: the one that took effect
            # last wins, then the newer rate.
            .sort("book", "prefix", "effective_from", "rate_id", nulls_last=False)
            .unique(["book", "prefix"], keep="last", maintain_order=True)
        )
        entries = (
            in_effect.select(
                entry=pl.int_range(pl.len(), dtype=pl.UInt32),
                book="book",
                rate_id=pl.col("rate_id").cast(pl.Int64),
                prefix="prefix",
                prefix_length=pl.col("prefix").str.len_bytes().cast(pl.Int64),
                type_code=pl.col("rate_type").replace_strict(_RATE_TYPE_CODE, return_dtype=pl.Int8),
                rate_units=_units(pl.col("billing_rate")),
                fee_units=_units(pl.col("connect_fee").fill_null(0)),
                billing_cycle=pl.col("billing_cycle").cast(pl.Int64),
                initial_increment=pl.col("initial_increment").cast(pl.Int64),
            )
            .with_columns(width=_pad(pl.col("prefix_length")))
            .with_columns(
                start=pl.col("prefix").str.to_integer(strict=False).fill_null(0) * pl.col("width")
            )
            .with_columns(end=pl.col("start") + pl.col("width"))
        )
        parents = _parents(entries)
        segment_keys, segment_owners = _segments(entries, parents, books.height)
        fitting = _fitting(entries.get_column("prefix_length"), parents)
        return cls(
            first, last, group_positions, boundaries, entries, fitting, segment_keys, segment_owners
        )

    def entry(self) -> pl.Expr:
        """The entry of a row's longest prefix: null where the row has a reason already,
        its contract's group has no rates, or no prefix covers its number. (A number
        shorter than the prefix found is put right by ``fitting``.)"""
        if self.entries.is_empty():
            return pl.lit(None, pl.UInt32)
        group = pl.col("group").fill_null(0)
        book = group
        if self.boundaries.len():
            epoch_key = group.cast(pl.Int128) * _int128(_GROUP_STRIDE) + _shifted_micros(
                pl.col("start_time")
            ).cast(pl.Int128)
            book = book + pl.lit(self.boundaries).search_sorted(epoch_key, side="right").cast(
                pl.Int64
            )
        padded = pl.col("cleaned_number").str.slice(0, MAX_PREFIX_DIGITS).str.to_integer(
            strict=False
        ).fill_null(0) * _pad(pl.min_horizontal(pl.col("length").fill_null(0), MAX_PREFIX_DIGITS))
        key_type = self.segment_keys.dtype
        key = book.cast(key_type) * pl.lit(_BOOK_STRIDE, key_type) + padded.cast(key_type)
        # every book opens with a key of its own at point 0: the search never lands
        # before the row's book
        segment = pl.lit(self.segment_keys).search_sorted(key, side="right").cast(pl.Int64) - 1
        searchable = pl.col("reason").is_null() & pl.col("group").is_not_null()
        found = pl.when(searchable).then(pl.lit(self.segment_owners).gather(segment))
        # A number shorter than the prefix found (its missing digits read as zeros)
        # belongs to the longest enclosing prefix that fits in it.
        fitting = found.cast(pl.Int64) * (MAX_PREFIX_DIGITS + 1) + pl.min_horizontal(
            pl.col("length").fill_null(0), MAX_PREFIX_DIGITS
        )
        return pl.lit(self.fitting).gather(fitting)

    def attributes(self, entry: pl.Expr) -> list[pl.Expr]:
        return [
            pl.lit(self.entries.get_column(column)).gather(entry).alias(column)
            for column in (
                "rate_id",
                "prefix",
                "type_code",
                "rate_units",
                "fee_units",
                "billing_cycle",
                "initial_increment",
            )
        ]

    def numerator_dtype(self, cdrs: pl.DataFrame) -> pl.DataType:
        """Int64 when the largest cost numerator these CDRs can reach fits in it (with
        room for the rounding's doubling), Int128 otherwise."""
        if self.entries.is_empty():
            return pl.Int64()
        top = self.entries.select(
            rate=pl.col("rate_units").abs().max(),
            fee=pl.col("fee_units").abs().max(),
            cycle=pl.col("billing_cycle").max(),
            initial=pl.col("initial_increment").max(),
        ).row(0, named=True)
        longest = (cdrs.get_column("billsec").max() or 0) + top["cycle"] + (top["initial"] or 0)
        bound = 2 * (60 * int(top["fee"]) + int(longest) * int(top["rate"])) + 60 * 100 * 2
        return pl.Int64() if bound < 2**62 else pl.Int128()


def _checked_rates(rates: pl.DataFrame) -> pl.DataFrame:
    """The rates, or a ``RatingError`` naming those that cannot be used: a rate that is
    left out silently would rate its calls at a shorter prefix's price."""
    rates = rates.select(RATE_COLUMNS).with_columns(
        pl.col("prefix").cast(pl.String).fill_null(""), pl.col("rate_type").cast(pl.String)
    )
    problems = {
        "a prefix that is not digits": ~pl.col("prefix").str.contains(r"^[0-9]*$"),
        f"a prefix longer than {MAX_PREFIX_DIGITS} digits": pl.col("prefix").str.len_bytes()
        > MAX_PREFIX_DIGITS,
        "an unknown rate type": ~pl.col("rate_type").is_in(list(_RATE_TYPE_CODE)),
        "a billing cycle below 1": pl.col("billing_cycle").fill_null(0) < 1,
        "an initial increment below 1": pl.col("initial_increment").fill_null(1) < 1,
        "no billing rate": pl.col("billing_rate").is_null(),
    }
    for problem, condition in problems.items():
        ids = rates.filter(condition).get_column("rate_id").to_list()
        if ids:
            shown = ", ".join(str(i) for i in ids[:10])
            raise RatingError(f"rate(s) {shown} have {problem}")
    for column in ("billing_rate", "connect_fee"):
        dtype = rates.schema[column]
        if isinstance(dtype, pl.Decimal):
            if dtype.scale > RATE_SCALE:
                raise RatingError(f"rates.{column} has more than {RATE_SCALE} decimal places")
        elif dtype not in (pl.Null, pl.Int64, pl.Int32):
            raise RatingError(f"rates.{column} must be exact decimals, not {dtype}")
    return rates.with_columns(
        pl.col("billing_rate").cast(pl.Decimal(38, RATE_SCALE)),
        pl.col("connect_fee").cast(pl.Decimal(38, RATE_SCALE)),
    )


_PADDING = pl.Series([10 ** (MAX_PREFIX_DIGITS - k) for k in range(MAX_PREFIX_DIGITS + 1)])


def _pad(length: pl.Expr) -> pl.Expr:
    """10**(18 - length): what left-aligns a number of that many digits in 18 places."""
    return pl.lit(_PADDING).gather(length)


def _units(amount: pl.Expr) -> pl.Expr:
    """An amount of at most 8 decimal places as an exact integer count of 10**-8."""
    return (amount.cast(pl.Decimal(38, RATE_SCALE)) * 10**RATE_SCALE).cast(pl.Int128)


def _int128(value: int) -> pl.Expr:
    return pl.lit(value, pl.Int128)


def _shifted_micros(instant: pl.Expr) -> pl.Expr:
    return instant.dt.epoch("us") + _TIME_SHIFT


def _parents(entries: pl.DataFrame) -> pl.Series:
    """For each entry, the entry of the longest proper prefix of its prefix in the same
    book (null at the top): one join per prefix length, over the rates only."""
    targets = entries.select("book", "prefix", parent="entry")
    found = [
        entries.filter(pl.col("prefix_length") > length)
        .select("entry", "book", prefix=pl.col("prefix").str.slice(0, length))
        .join(targets, on=["book", "prefix"])
        .with_columns(level=pl.lit(length))
        for length in range(entries.get_column("prefix_length").cast(pl.Int64).max() or 0)  # type: ignore[arg-type]
    ]
    deepest = (
        pl.concat(found)
        if found
        else pl.DataFrame(schema={"entry": pl.UInt32, "parent": pl.UInt32, "level": pl.Int32})
    )
    deepest = deepest.sort("entry", "level").unique("entry", keep="last").select("entry", "parent")
    return (
        entries.select("entry")
        .join(deepest, on="entry", how="left", maintain_order="left")
        .get_column("parent")
    )


def _fitting(prefix_lengths: pl.Series, parents: pl.Series) -> pl.Series:
    """For every entry and number length 0..18, flattened as ``entry * 19 + length``:
    the entry itself if its prefix fits in that many digits, else its longest
    enclosing prefix that does (null if none). Over the rates only, at most 19 steps."""
    width = MAX_PREFIX_DIGITS + 1
    grid = pl.DataFrame(
        {
            "owner": pl.int_range(prefix_lengths.len(), dtype=pl.UInt32, eager=True)
            .repeat_by(width)
            .explode(),
            "length": pl.Series(list(range(width)) * prefix_lengths.len(), dtype=pl.Int64),
        }
    )
    owner = grid.get_column("owner")
    length = grid.get_column("length")
    for _ in range(width):
        too_long = (prefix_lengths.gather(owner) > length).fill_null(False)
        if not too_long.any():
            break
        owner = pl.select(
            pl.when(too_long).then(parents.gather(owner)).otherwise(owner)
        ).to_series()
    return owner


def _segments(
    entries: pl.DataFrame, parents: pl.Series, book_count: int
) -> tuple[pl.Series, pl.Series]:
    """Cut each book's line at every prefix interval's start and end. From a start on,
    the segment belongs to that prefix; from an end on, to the innermost enclosing
    prefix that goes on further. At one point a start beats an end, and a deeper start
    a shallower one. Every book opens with an ownerless point 0."""
    ends = entries.get_column("end")
    after_end = parents
    for _ in range(MAX_PREFIX_DIGITS + 1):
        ends_too = (ends.gather(after_end) <= ends).fill_null(False)
        if not ends_too.any():
            break
        after_end = pl.select(
            pl.when(ends_too).then(parents.gather(after_end)).otherwise(after_end)
        ).to_series()
    opening = pl.DataFrame(
        {
            "book": pl.int_range(book_count, dtype=pl.Int64, eager=True),
            "point": pl.zeros(book_count, dtype=pl.Int64, eager=True),
            "rank": pl.repeat(-1, book_count, dtype=pl.Int64, eager=True),
            "owner": pl.repeat(None, book_count, dtype=pl.UInt32, eager=True),
        }
    )
    starts = entries.select("book", point="start", rank=pl.col("prefix_length") + 1, owner="entry")
    closings = (
        entries.select("book", point="end", rank=pl.lit(0, pl.Int64))
        .with_columns(owner=after_end)
        .filter(pl.col("point") < _SPAN)  # the end of the line is never searched for
    )
    segments = (
        pl.concat([opening, starts, closings])
        .sort("book", "point", "rank")
        .unique(["book", "point"], keep="last", maintain_order=True)
    )
    # keys fit in an Int64 while there are few books, the usual case
    key_type = pl.Int64 if book_count * _BOOK_STRIDE < 2**63 else pl.Int128
    keys = segments.select(
        pl.col("book").cast(key_type) * pl.lit(_BOOK_STRIDE, key_type)
        + pl.col("point").cast(key_type)
    ).to_series()
    return keys, segments.get_column("owner")
