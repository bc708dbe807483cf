"""The longest-prefix search of RATING.md §2: the rates laid out once ("a rate book"),
then one sorted search per CDR finds the rate of its longest prefix in effect at its
start, with no Python loop per CDR.

A digit string of at most 18 digits, left-aligned in 18 decimal places, is an integer
below 10**18; the numbers starting with a prefix of length ``l`` are then exactly the
interval ``[prefix * 10**(18-l), (prefix + 1) * 10**(18-l))``. Prefixes form nested or
disjoint intervals, so they cut the line into segments each owned by its innermost
prefix: one sorted search per CDR finds its segment. The rates in effect change only at
the ``effective_from``/``to`` instants of a rate group, so each group is cut into epochs
between those instants, with one set of segments ("book") per epoch. Rates are held as
integer counts of 10**-8 for the engine's exact arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from telecrm.money import RATE_SCALE
from telecrm.rating.frames import RATE_COLUMNS, RatingError
from telecrm.rating.types import RateType

MAX_PREFIX_DIGITS = 18  # the widest decimal integer an Int64 holds in every position
# The code of each rate type in the book's entries, which the pricing reads back.
RATE_TYPE_CODE = {
    RateType.PER_SECOND.value: 0,
    RateType.PER_MINUTE.value: 1,
    RateType.FLAT_RATE.value: 2,
}

_SPAN = 10**MAX_PREFIX_DIGITS  # a left-aligned number is below this
_BOOK_STRIDE = 2**60  # the smallest power of two above _SPAN: books' keys never overlap
_TIME_SHIFT = 2**62  # makes microseconds since 1970 of any year 1..9999 non-negative
_GROUP_STRIDE = 2**64  # one group's epoch boundaries sort apart from the next group's


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
                type_code=pl.col("rate_type").replace_strict(RATE_TYPE_CODE, return_dtype=pl.Int8),
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
        "an unknown rate type": ~pl.col("rate_type").is_in(list(RATE_TYPE_CODE)),
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
