"""RATING.md written the plain way: one CDR at a time, ``Decimal`` arithmetic, a dict
of prefixes walked from the longest. It takes and returns the same frames as
``engine.rate`` and is the yardstick the engine is held to: the tests and the rating
benchmark check that both give the same result, digit for digit. Too slow for real
volumes by design (it is the "row by row" baseline); never used to bill.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from telecrm.money import COST_SCALE
from telecrm.numbering import RewriteRules, rewrite_rules
from telecrm.rating.frames import CONTRACT_COLUMNS, RATE_COLUMNS, RESULT_SCHEMA, RatingError
from telecrm.rating.policy import RatingPolicy
from telecrm.rating.types import ACCOUNTCODE_BLANKS, RateType, RatingStatus, UnratedReason

_NAME_ADDR = re.compile(r"<([^<>]*)>[ \t]*\Z")  # the last <...>, ending the text
_REMOVED = re.compile(r"[ \t\"'\-.()]")
_DIGITS = re.compile(r"[0-9]+")
_CENT = Decimal(1).scaleb(-COST_SCALE)


def clean_number(dst: str, rules: RewriteRules) -> str:
    """RATING.md §1.1-2: the number of ``Name <number>``, decorations removed, the
    first matching rewrite rule applied once."""
    named = _NAME_ADDR.search(dst)
    number = _REMOVED.sub("", named.group(1) if named else dst)
    for prefix, replacement in rules:
        if number.startswith(prefix):
            return replacement + number[len(prefix) :]
    return number


def billable_seconds(billsec: int, cycle: int, initial: int | None) -> int:
    """RATING.md §3, for an answered call."""
    first = initial or cycle
    if billsec <= first:
        return first
    return first + math.ceil((billsec - first) / cycle) * cycle


def call_cost(
    rate_type: str, billing_rate: Decimal, connect_fee: Decimal, billable: int
) -> Decimal:
    """RATING.md §4, rounded once, half-up, to 6 places."""
    if rate_type == RateType.PER_SECOND:
        exact = connect_fee + billable * billing_rate
    elif rate_type == RateType.PER_MINUTE:
        exact = connect_fee + billable * billing_rate / 60
    else:
        exact = connect_fee + billing_rate
    return exact.quantize(_CENT, rounding=ROUND_HALF_UP)


def rate(
    cdrs: pl.DataFrame, contracts: pl.DataFrame, rates: pl.DataFrame, policy: RatingPolicy
) -> pl.DataFrame:
    contract_by_code: dict[str, dict[str, Any]] = {}
    for contract in contracts.select(CONTRACT_COLUMNS).iter_rows(named=True):
        code = str(contract["accountcode"]).strip(ACCOUNTCODE_BLANKS)
        if code in contract_by_code:
            raise RatingError(f"contracts share the account code {code!r}")
        rules = contract["rewrite_rules"]
        contract["rules"] = policy.rewrite_rules if rules is None else rewrite_rules(rules)
        contract_by_code[code] = contract
    versions: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for rate_row in rates.select(RATE_COLUMNS).iter_rows(named=True):
        versions[(rate_row["rate_group_id"], rate_row["prefix"] or "")].append(rate_row)
    results = [
        _rate_one(cdr, contract_by_code, versions, policy) for cdr in cdrs.iter_rows(named=True)
    ]
    return pl.DataFrame(results, schema=RESULT_SCHEMA, orient="row")


def _rate_one(
    cdr: dict[str, Any],
    contract_by_code: dict[str, dict[str, Any]],
    versions: dict[tuple[int, str], list[dict[str, Any]]],
    policy: RatingPolicy,
) -> tuple[Any, ...]:
    contract = contract_by_code.get((cdr["accountcode"] or "").strip(ACCOUNTCODE_BLANKS))
    rules = contract["rules"] if contract else policy.rewrite_rules
    number = clean_number(cdr["dst"] or "", rules)
    contract_id = contract["contract_id"] if contract else None

    def unrated(reason: UnratedReason) -> tuple[Any, ...]:
        return (
            cdr["cdr_id"],
            RatingStatus.UNRATED.value,
            reason.value,
            contract_id,
            number,
            None,
            None,
            None,
            None,
        )

    if not _DIGITS.fullmatch(number):
        return unrated(UnratedReason.INVALID_NUMBER)
    if len(number) < policy.min_number_length:
        return unrated(UnratedReason.INTERNAL)
    if contract is None:
        return unrated(UnratedReason.NO_CONTRACT)
    chosen = _longest_prefix_rate(number, contract["rate_group_id"], cdr["start_time"], versions)
    if chosen is None:
        return unrated(UnratedReason.NO_RATE)
    disposition = (cdr["disposition"] or "").strip().upper()
    if disposition in policy.answered_dispositions and cdr["billsec"] > 0:
        billable = billable_seconds(
            cdr["billsec"], chosen["billing_cycle"], chosen["initial_increment"]
        )
        cost = call_cost(
            chosen["rate_type"],
            Decimal(chosen["billing_rate"]),
            Decimal(chosen["connect_fee"] or 0),
            billable,
        )
    else:
        billable, cost = 0, Decimal(0).quantize(_CENT)
    return (
        cdr["cdr_id"],
        RatingStatus.RATED.value,
        None,
        contract_id,
        number,
        chosen["prefix"] or "",
        chosen["rate_id"],
        billable,
        cost,
    )


def _longest_prefix_rate(
    number: str,
    group: int,
    start: dt.datetime,
    versions: dict[tuple[int, str], list[dict[str, Any]]],
) -> dict[str, Any] | None:
    for length in range(len(number), -1, -1):
        in_effect = [
            version
            for version in versions.get((group, number[:length]), [])
            if (version["effective_from"] is None or version["effective_from"] <= start)
            and (version["effective_to"] is None or start < version["effective_to"])
        ]
        if in_effect:
            return max(in_effect, key=_latest_first)
    return None


def _latest_first(version: dict[str, Any]) -> tuple[dt.datetime, int]:
    began = version["effective_from"] or dt.datetime.min.replace(tzinfo=dt.UTC)
    return began, version["rate_id"]
