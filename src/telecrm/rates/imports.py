"""Rate groups and rate decks from CSV: every bad row is reported by its line, and a
file is imported whole or not at all. A deck is parsed row by row as it is read."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.clock import to_instant
from telecrm.csvimport import ImportSummary, Keyed, Row, RowError, iter_rows, read_rows, upsert
from telecrm.rates import repository, usage
from telecrm.rates.models import Rate
from telecrm.rates.overlap import Span, overlapping_pairs, range_problem, window
from telecrm.rates.schemas import RateCsvRow, RateGroupCsvRow
from telecrm.rates.service import PRICING_FIELDS, require_group

RATE_COLUMNS = ("rate_prefix", "rate_type", "billing_rate", "billing_cycle")
OPTIONAL_RATE_COLUMNS = (
    "area_prefix",
    "description",
    "initial_increment",
    "connect_fee",
    "effective_from",
    "effective_to",
)

RateKey = tuple[int, str, str, dt.datetime | None]  # group, prefixes, effective_from


def import_groups(session: Session, stream: TextIO, name: str) -> ImportSummary:
    """``id,name,memo`` rows: a known id updates that group, a new id creates it
    with that id (so that contract and rate files can refer to it)."""
    rows, errors = read_rows(stream, RateGroupCsvRow, ("id", "name"), ("memo",), name)
    existing = repository.groups_by_id(session, [row.record.id for row in rows])
    named = repository.groups_by_name(session, [row.record.name for row in rows])
    incoming: dict[int, Keyed] = {}
    first_line_of_name: dict[str, int] = {}
    for row in rows:
        group = row.record
        if group.id in incoming:
            errors.append(
                RowError(row.line, f"id {group.id} is also on line {incoming[group.id].line}")
            )
            continue
        if group.name in first_line_of_name:
            errors.append(
                RowError(
                    row.line,
                    f"name {group.name!r} is also on line {first_line_of_name[group.name]}",
                )
            )
            continue
        incoming[group.id] = Keyed(row.line, group.model_dump(), row.fields)
        first_line_of_name[group.name] = row.line
        holder = named.get(group.name)
        if holder is not None and holder.id != group.id:
            errors.append(
                RowError(row.line, f"name {group.name!r} belongs to rate group {holder.id}")
            )
    return upsert(
        session,
        name,
        "rate_groups",
        incoming,
        existing,
        lambda created: repository.insert_groups(session, created),
        errors,
    )


def _deck_rows(
    rows: Iterable[Row[RateCsvRow]],
    group_id: int | None,
    group_exists: Callable[[int], bool],
    tz: ZoneInfo,
    errors: list[RowError],
) -> dict[RateKey, Keyed]:
    """The deck's rates by key, with their lines; a bad row becomes an error."""
    incoming: dict[RateKey, Keyed] = {}
    for row in rows:
        values = row.record.model_dump()
        row_group = values["rate_group_id"] or group_id
        if row_group is None:
            errors.append(RowError(row.line, "rate_group_id: required"))
            continue
        if group_id is not None and row_group != group_id:
            errors.append(
                RowError(row.line, f"rate_group_id {row_group}: the deck is for group {group_id}")
            )
            continue
        if not group_exists(row_group):
            errors.append(RowError(row.line, f"rate_group_id {row_group}: no such rate group"))
            continue
        values["effective_from"] = to_instant(values["effective_from"], tz)
        values["effective_to"] = to_instant(values["effective_to"], tz)
        if problem := range_problem(values["effective_from"], values["effective_to"]):
            errors.append(RowError(row.line, problem))
            continue
        values["rate_group_id"] = row_group
        key = (row_group, values["rate_prefix"], values["area_prefix"], values["effective_from"])
        if key in incoming:
            errors.append(RowError(row.line, f"the same rate as line {incoming[key].line}"))
            continue
        incoming[key] = Keyed(row.line, values)
    return incoming


def _repricing_errors(
    session: Session,
    incoming: dict[RateKey, Keyed],
    existing: dict[RateKey, Rate],
) -> list[RowError]:
    repriced = {
        key: existing[key].id
        for key, row in incoming.items()
        if key in existing
        and any(getattr(existing[key], field) != row.values[field] for field in PRICING_FIELDS)
    }
    used = usage.used_rate_ids.ask(session, set(repriced.values()))
    return [
        RowError(
            incoming[key].line,
            f"changes the price of rate {rate_id}, which has rated calls: "
            "end it (effective_to) and add a new rate from that instant",
        )
        for key, rate_id in repriced.items()
        if rate_id in used
    ]


def _overlap_errors(
    incoming: dict[RateKey, Keyed], existing: dict[RateKey, Rate]
) -> list[RowError]:
    """Overlaps of the deck's rates with each other and with the rates it leaves."""
    spans: dict[int, list[Span]] = defaultdict(list)
    for key, rate in existing.items():
        if key not in incoming:
            spans[key[0]].append(
                Span(
                    f"rate {rate.id}",
                    rate.destination_prefix,
                    rate.effective_from,
                    rate.effective_to,
                )
            )
    line_of: dict[str, int] = {}
    for key, row in incoming.items():
        values = row.values
        span = Span(
            f"line {row.line}",
            values["rate_prefix"] + values["area_prefix"],
            values["effective_from"],
            values["effective_to"],
        )
        line_of[span.label] = row.line
        spans[key[0]].append(span)
    errors: list[RowError] = []
    for group_spans in spans.values():
        for first, second in overlapping_pairs(group_spans):
            mine, other = (second, first) if second.label in line_of else (first, second)
            if mine.label in line_of:
                errors.append(
                    RowError(
                        line_of[mine.label],
                        f"destination {mine.destination} from {window(mine)} "
                        f"overlaps {other.label} ({window(other)})",
                    )
                )
    return errors


def import_rates(
    session: Session, stream: TextIO, name: str, tz: ZoneInfo, group_id: int | None = None
) -> ImportSummary:
    """A rate deck. A row whose group, prefixes and ``effective_from`` match an
    existing rate updates it; any other row adds a rate. ``group_id``: every row
    belongs to that group (an upload to one group), the column may be left out."""
    required: tuple[str, ...] = RATE_COLUMNS
    optional: tuple[str, ...] = OPTIONAL_RATE_COLUMNS
    if group_id is None:
        required = ("rate_group_id", *required)
    else:
        require_group(session, group_id)
        optional = (*optional, "rate_group_id")
    errors: list[RowError] = []
    known: dict[int, bool] = {}

    def group_exists(group: int) -> bool:
        if group not in known:
            known[group] = bool(repository.groups_by_id(session, {group}))
        return known[group]

    # Row by row as the file is read: a deck of 200,000 rates never holds all its
    # parsed rows at once, only the values kept for each rate.
    rows = iter_rows(stream, RateCsvRow, required, optional, name, errors)
    incoming = _deck_rows(rows, group_id, group_exists, tz, errors)
    existing: dict[RateKey, Rate] = {
        (rate.rate_group_id, rate.rate_prefix, rate.area_prefix, rate.effective_from): rate
        for rate in repository.rates_of_groups(session, {key[0] for key in incoming})
    }
    errors += _repricing_errors(session, incoming, existing)
    errors += _overlap_errors(incoming, existing)
    return upsert(
        session,
        name,
        "rates",
        incoming,
        existing,
        lambda created: repository.insert_rates(session, created),
        errors,
    )


def upload_rates(
    session: Session, group_id: int, content: BinaryIO, name: str, tz: ZoneInfo
) -> ImportSummary:
    """A rate deck uploaded to one group (the API's CSV upload), parsed as it is read
    from the uploaded file: UTF-8, with or without the BOM that Excel writes, and any
    line ending (newline="" as the csv module wants)."""
    stream = io.TextIOWrapper(content, encoding="utf-8-sig", newline="")
    try:
        return import_rates(session, stream, name, tz, group_id=group_id)
    finally:
        stream.detach()  # the upload's file is closed by its owner
