"""The rating run (``process-billing``): the CDRs of a window rated a day of the
billing time zone at a time, only the ratings that change written back. Services never
commit: the CLI command or the worker does, once the run is done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl
from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.cdrs.rating_run import repository
from telecrm.cdrs.window import zone_info
from telecrm.config import Settings
from telecrm.db import utcnow
from telecrm.errors import ValidationFailed
from telecrm.rating import engine
from telecrm.rating.policy import RatingPolicy
from telecrm.rating.types import RatingStatus


def rating_policy(settings: Settings) -> RatingPolicy:
    return RatingPolicy(
        rewrite_rules=tuple((prefix, new) for prefix, new in settings.rewrite_rules),
        min_number_length=settings.min_number_length,
        answered_dispositions=tuple(settings.answered_dispositions),
    )


@dataclass
class BillingSummary:
    processed: int = 0
    changed: int = 0
    rated: int = 0
    zero_cost: int = 0
    unrated: dict[str, int] = field(default_factory=dict)
    cost_by_currency: dict[str, Decimal] = field(default_factory=dict)
    # the window's calls billing could not rate: not validated yet, and invalid (how
    # many, and how many have each finding)
    unvalidated: int = 0
    invalid: int = 0
    invalid_findings: dict[str, int] = field(default_factory=dict)

    def add(self, results: pl.DataFrame, contracts: pl.DataFrame, changed: int) -> None:
        self.processed += results.height
        self.changed += changed
        rated = results.filter(pl.col("rating_status") == RatingStatus.RATED.value)
        self.rated += rated.height
        self.zero_cost += rated.filter(pl.col("cost") == 0).height
        for reason, count in (
            results.filter(pl.col("rating_status") == RatingStatus.UNRATED.value)
            .group_by("rating_reason")
            .len()
            .iter_rows()
        ):
            self.unrated[reason] = self.unrated.get(reason, 0) + count
        totals = (
            rated.join(contracts.select("contract_id", "currency"), on="contract_id")
            .group_by("currency")
            .agg(pl.col("cost").sum())
        )
        for currency, total in totals.iter_rows():
            self.cost_by_currency[currency] = (
                self.cost_by_currency.get(currency, Decimal(0)) + total
            )


def process_billing(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    rerate: bool,
    settings: Settings,
    on_day: Callable[[dt.date, int], None] | None = None,
    shard: tuple[int, int] = (0, 1),
) -> BillingSummary:
    """Rate the CDRs that started in ``[start, end)``: those not rated yet, and with
    ``rerate`` the rated ones too unless their invoice was sent, awaits payment or is
    paid. A day (of the billing time zone) at a time, so memory holds one day's CDRs;
    only the CDRs whose rating changes are written. Each day is held until the run
    commits: a concurrent run of the same day waits, then finds nothing left to do.
    ``shard`` ``(k, n)`` rates the k-th of n shares of each day's calls (by CDR id), so
    that n workers can rate one big day side by side."""
    policy = rating_policy(settings)
    contracts = repository.contracts_frame(session)
    # every rate that may apply in the window, read and laid out once; each day is
    # rated with the rates in effect at its calls
    rates = repository.rates_frame(session, start, end)
    try:
        book = engine.rate_book(rates, start, end)
    except engine.RatingError as exc:
        raise ValidationFailed(f"cannot rate: {exc}") from exc
    summary = BillingSummary()
    zone = zone_info(settings.timezone)
    day_start = start
    while day_start < end:
        local = day_start.astimezone(zone)
        next_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), zone)
        day_end = min(next_day.astimezone(dt.UTC), end)
        repository.lock_rating_day(session, local.date(), shard)
        cdrs = repository.ratable_cdrs(session, day_start, day_end, rerate, shard)
        if not cdrs.is_empty():
            try:
                results = engine.rate(cdrs, contracts, rates, policy, book)
            except engine.RatingError as exc:
                raise ValidationFailed(f"cannot rate: {exc}") from exc
            differs = _differs(results, cdrs)
            changed = results.with_columns(start_time=cdrs.get_column("start_time")).filter(differs)
            first = cdrs.get_column("old_rating_status").filter(differs) == "pending"
            repository.write_ratings(session, changed, first, utcnow())
            if changed.height:
                cache.invalidate_on_commit(session, cache.RATINGS)
            summary.add(results, contracts, changed.height)
        if on_day is not None:
            on_day(local.date(), cdrs.height)
        day_start = day_end
    session.flush()
    summary.unvalidated, invalid = repository.excluded_counts(session, start, end)
    summary.invalid, summary.invalid_findings = invalid.invalid, invalid.reasons
    return summary


def _differs(results: pl.DataFrame, cdrs: pl.DataFrame) -> pl.Series:
    """Which results differ from what the CDRs have (results keep the CDRs' order)."""
    return results.select(
        pl.any_horizontal(
            pl.col(name).ne_missing(pl.lit(cdrs.get_column(f"old_{name}")))
            for name in repository.RATING_COLUMNS
        )
    ).to_series()


def pending_days(session: Session, settings: Settings) -> tuple[dt.date, dt.date] | None:
    """The first and the last day (of the billing time zone) holding CDRs not rated yet."""
    window = repository.pending_rating_window(session)
    if window is None:
        return None
    zone = zone_info(settings.timezone)
    return window[0].astimezone(zone).date(), window[1].astimezone(zone).date()


def rate_new_cdrs(session: Session, settings: Settings) -> int:
    """Rate every CDR not rated yet (billing's process-billing over their days);
    returns how many were processed."""
    window = repository.pending_rating_window(session)
    if window is None:
        return 0
    return process_billing(session, *window, rerate=False, settings=settings).processed
