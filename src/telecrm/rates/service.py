"""Rate groups and their rates: the price list the rating engine reads.

Within a group, two rates for the same destination prefix may not be in effect at
the same instant (the engine could not choose between them). A rate that rated
calls keeps its price: to change a price, end the rate (``effective_to``) and add
a new one from that instant, so that every stored cost can still be explained.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.audit.service import record
from telecrm.csvimport import (
    ImportSummary,
    Row,
    RowError,
    iter_rows,
    raise_if_errors,
    read_rows,
)
from telecrm.errors import Conflict, NotFound, ValidationFailed
from telecrm.invoices.arithmetic import to_instant
from telecrm.rates import repository
from telecrm.rates.models import Rate, RateGroup
from telecrm.rates.schemas import (
    RateCreate,
    RateCsvRow,
    RateGroupCreate,
    RateGroupCsvRow,
    RateGroupRead,
    RateGroupUpdate,
    RateUpdate,
)

# What a rated call's cost was computed from; fixed once a call used the rate.
PRICING_FIELDS = (
    "rate_prefix",
    "area_prefix",
    "rate_type",
    "billing_rate",
    "billing_cycle",
    "initial_increment",
    "connect_fee",
)
REQUIRED_FIELDS = frozenset(
    {"rate_prefix", "area_prefix", "rate_type", "billing_rate", "billing_cycle", "connect_fee"}
)
RATE_COLUMNS = ("rate_prefix", "rate_type", "billing_rate", "billing_cycle")
OPTIONAL_RATE_COLUMNS = (
    "area_prefix",
    "description",
    "initial_increment",
    "connect_fee",
    "effective_from",
    "effective_to",
)


# --- pure rules ------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """When a rate for ``destination`` is in effect: ``[start, end)``, ``None`` open."""

    label: str
    destination: str
    start: dt.datetime | None
    end: dt.datetime | None


def _starts_before_end_of(span: Span, earlier_end: dt.datetime | None) -> bool:
    return earlier_end is None or span.start is None or span.start < earlier_end


def overlapping_pairs(spans: Iterable[Span]) -> list[tuple[Span, Span]]:
    """Pairs of spans of one destination in effect at a common instant. Per
    destination, a sweep in order of start: a span overlaps an earlier one exactly
    when it starts before the latest end seen so far."""
    by_destination: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_destination[span.destination].append(span)
    pairs: list[tuple[Span, Span]] = []
    for group in by_destination.values():
        group.sort(key=lambda span: (span.start is not None, span.start or dt.datetime.min))
        latest: Span | None = None
        for span in group:
            if latest is not None and _starts_before_end_of(span, latest.end):
                pairs.append((latest, span))
            if latest is None or (
                latest.end is not None and (span.end is None or span.end > latest.end)
            ):
                latest = span
    return pairs


def _range_problem(start: dt.datetime | None, end: dt.datetime | None) -> str | None:
    if start is not None and end is not None and end <= start:
        return f"effective_to {end.isoformat()} is not after effective_from {start.isoformat()}"
    return None


def _window(span: Span) -> str:
    start = span.start.isoformat() if span.start else "the beginning"
    end = span.end.isoformat() if span.end else "open end"
    return f"{start} to {end}"


# --- rate groups -----------------------------------------------------------------


def _group_read(group: RateGroup, rate_count: int, contract_count: int) -> RateGroupRead:
    return RateGroupRead(
        id=group.id,
        name=group.name,
        memo=group.memo,
        rate_count=rate_count,
        contract_count=contract_count,
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


def require_group(session: Session, group_id: int) -> RateGroup:
    group = repository.get_group(session, group_id)
    if group is None:
        raise NotFound(f"rate group {group_id} not found")
    return group


def list_groups(session: Session) -> list[RateGroupRead]:
    return [_group_read(*row) for row in repository.list_groups_with_counts(session)]


def get_group(session: Session, group_id: int) -> RateGroupRead:
    group = require_group(session, group_id)
    return _group_read(group, *repository.group_counts(session, group_id))


def _check_name_free(session: Session, name: str, group_id: int | None) -> None:
    other = repository.get_group_by_name(session, name)
    if other is not None and other.id != group_id:
        raise Conflict(f"a rate group named {name!r} already exists (id {other.id})")


def create_group(session: Session, data: RateGroupCreate) -> RateGroupRead:
    _check_name_free(session, data.name, None)
    group = RateGroup(name=data.name, memo=data.memo)
    repository.add(session, group)
    return _group_read(group, 0, 0)


def update_group(session: Session, group_id: int, data: RateGroupUpdate) -> RateGroupRead:
    group = require_group(session, group_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"] is None:
            raise ValidationFailed("name: a rate group needs a name")
        _check_name_free(session, changes["name"], group_id)
    for field, value in changes.items():
        setattr(group, field, value)
    session.flush()
    return _group_read(group, *repository.group_counts(session, group_id))


def delete_group(session: Session, group_id: int) -> None:
    group = require_group(session, group_id)
    _, contracts = repository.group_counts(session, group_id)
    if contracts:
        raise Conflict(
            f"rate group {group_id} is the rate group of {contracts} contracts; "
            "move them to another group first"
        )
    if repository.group_has_used_rates(session, group_id):
        raise Conflict(f"rates of rate group {group_id} rated calls; they must stay")
    repository.delete(session, group)


def import_groups(session: Session, stream: TextIO, name: str) -> ImportSummary:
    """``id,name,memo`` rows: a known id updates that group, a new id creates it
    with that id (so that contract and rate files can refer to it)."""
    rows, errors = read_rows(stream, RateGroupCsvRow, ("id", "name"), ("memo",), name)
    existing = repository.groups_by_id(session, [row.record.id for row in rows])
    named = repository.groups_by_name(session, [row.record.name for row in rows])
    first_line_of_id: dict[int, int] = {}
    first_line_of_name: dict[str, int] = {}
    for row in rows:
        record_ = row.record
        if record_.id in first_line_of_id:
            errors.append(
                RowError(
                    row.line, f"id {record_.id} is also on line {first_line_of_id[record_.id]}"
                )
            )
            continue
        if record_.name in first_line_of_name:
            errors.append(
                RowError(
                    row.line,
                    f"name {record_.name!r} is also on line {first_line_of_name[record_.name]}",
                )
            )
            continue
        first_line_of_id[record_.id] = row.line
        first_line_of_name[record_.name] = row.line
        holder = named.get(record_.name)
        if holder is not None and holder.id != record_.id:
            errors.append(
                RowError(row.line, f"name {record_.name!r} belongs to rate group {holder.id}")
            )
    raise_if_errors(errors, name)
    created: list[dict[str, Any]] = []
    updated = 0
    for row in rows:
        group = existing.get(row.record.id)
        if group is None:
            created.append(row.record.model_dump())
            continue
        memo = row.record.memo if "memo" in row.fields else group.memo
        if (group.name, group.memo) != (row.record.name, memo):
            group.name, group.memo = row.record.name, memo
            updated += 1
    session.flush()
    repository.insert_groups(session, created)
    record(
        session,
        "import",
        "rate_groups",
        None,
        {"file": name, "created": len(created), "updated": updated},
    )
    return ImportSummary(created=len(created), updated=updated)


# --- rates -----------------------------------------------------------------------


def require_rate(session: Session, rate_id: int) -> Rate:
    rate = repository.get_rate(session, rate_id)
    if rate is None:
        raise NotFound(f"rate {rate_id} not found")
    return rate


def list_rates(
    session: Session,
    group_id: int,
    tz: ZoneInfo,
    prefix: str | None = None,
    active_at: dt.datetime | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> list[Rate]:
    require_group(session, group_id)
    return list(
        repository.list_rates(
            session,
            group_id,
            prefix=prefix,
            active_at=to_instant(active_at, tz),
            after_id=after_id,
            limit=limit,
        )
    )


def _check_no_overlap(
    session: Session, group_id: int, candidate: Span, rate_id: int | None
) -> None:
    others = [
        Span(f"rate {rate.id}", rate.destination_prefix, rate.effective_from, rate.effective_to)
        for rate in repository.rates_for_destination(session, group_id, candidate.destination)
        if rate.id != rate_id
    ]
    for first, second in overlapping_pairs([candidate, *others]):
        other = second if first is candidate else first
        raise Conflict(
            f"{other.label} for destination {candidate.destination} is in effect from "
            f"{_window(other)}, which overlaps {_window(candidate)}; end it first"
        )


def create_rate(session: Session, group_id: int, data: RateCreate, tz: ZoneInfo) -> Rate:
    require_group(session, group_id)
    values = data.model_dump()
    values["effective_from"] = to_instant(data.effective_from, tz)
    values["effective_to"] = to_instant(data.effective_to, tz)
    if problem := _range_problem(values["effective_from"], values["effective_to"]):
        raise ValidationFailed(problem)
    rate = Rate(rate_group_id=group_id, **values)
    _check_no_overlap(
        session,
        group_id,
        Span("the new rate", rate.destination_prefix, rate.effective_from, rate.effective_to),
        None,
    )
    repository.add(session, rate)
    return rate


def update_rate(session: Session, rate_id: int, data: RateUpdate, tz: ZoneInfo) -> Rate:
    rate = require_rate(session, rate_id)
    changes = data.model_dump(exclude_unset=True)
    if empty := sorted(
        field for field in REQUIRED_FIELDS if field in changes and changes[field] is None
    ):
        raise ValidationFailed(f"{', '.join(empty)}: may not be empty")
    for field in ("effective_from", "effective_to"):
        if field in changes:
            changes[field] = to_instant(changes[field], tz)
    changes = {field: value for field, value in changes.items() if getattr(rate, field) != value}
    repriced = sorted(field for field in PRICING_FIELDS if field in changes)
    if repriced and repository.used_rate_ids(session, [rate.id]):
        raise Conflict(
            f"rate {rate.id} has rated calls, so its {', '.join(repriced)} may not change: "
            "end it (effective_to) and add a new rate from that instant"
        )
    merged = {
        field: changes.get(field, getattr(rate, field))
        for field in ("rate_prefix", "area_prefix", "effective_from", "effective_to")
    }
    if problem := _range_problem(merged["effective_from"], merged["effective_to"]):
        raise ValidationFailed(problem)
    _check_no_overlap(
        session,
        rate.rate_group_id,
        Span(
            f"rate {rate.id}",
            merged["rate_prefix"] + merged["area_prefix"],
            merged["effective_from"],
            merged["effective_to"],
        ),
        rate.id,
    )
    for field, value in changes.items():
        setattr(rate, field, value)
    session.flush()
    return rate


def delete_rate(session: Session, rate_id: int) -> None:
    rate = require_rate(session, rate_id)
    if repository.used_rate_ids(session, [rate.id]):
        raise Conflict(f"rate {rate.id} has rated calls and must stay; end it with effective_to")
    repository.delete(session, rate)


RateKey = tuple[int, str, str, dt.datetime | None]  # group, prefixes, effective_from


def _deck_rows(
    rows: Iterable[Row[RateCsvRow]],
    group_id: int | None,
    group_exists: Callable[[int], bool],
    tz: ZoneInfo,
    errors: list[RowError],
) -> dict[RateKey, tuple[int, dict[str, Any]]]:
    """The deck's rates by key, with their lines; a bad row becomes an error."""
    incoming: dict[RateKey, tuple[int, dict[str, Any]]] = {}
    for row in rows:
        values = row.record.model_dump()
        row_group = values.pop("rate_group_id") or group_id
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
        if problem := _range_problem(values["effective_from"], values["effective_to"]):
            errors.append(RowError(row.line, problem))
            continue
        key = (row_group, values["rate_prefix"], values["area_prefix"], values["effective_from"])
        if key in incoming:
            errors.append(RowError(row.line, f"the same rate as line {incoming[key][0]}"))
            continue
        incoming[key] = (row.line, values)
    return incoming


def _repricing_errors(
    session: Session,
    incoming: dict[RateKey, tuple[int, dict[str, Any]]],
    existing: dict[RateKey, Rate],
) -> list[RowError]:
    repriced = {
        key: existing[key].id
        for key, (_, values) in incoming.items()
        if key in existing
        and any(getattr(existing[key], field) != values[field] for field in PRICING_FIELDS)
    }
    used = repository.used_rate_ids(session, set(repriced.values()))
    return [
        RowError(
            incoming[key][0],
            f"changes the price of rate {rate_id}, which has rated calls: "
            "end it (effective_to) and add a new rate from that instant",
        )
        for key, rate_id in repriced.items()
        if rate_id in used
    ]


def _overlap_errors(
    incoming: dict[RateKey, tuple[int, dict[str, Any]]], existing: dict[RateKey, Rate]
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
    for key, (line, values) in incoming.items():
        span = Span(
            f"line {line}",
            values["rate_prefix"] + values["area_prefix"],
            values["effective_from"],
            values["effective_to"],
        )
        line_of[span.label] = line
        spans[key[0]].append(span)
    errors: list[RowError] = []
    for group_spans in spans.values():
        for first, second in overlapping_pairs(group_spans):
            mine, other = (second, first) if second.label in line_of else (first, second)
            if mine.label in line_of:
                errors.append(
                    RowError(
                        line_of[mine.label],
                        f"destination {mine.destination} from {_window(mine)} "
                        f"overlaps {other.label} ({_window(other)})",
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
    raise_if_errors(errors, name)

    created: list[dict[str, Any]] = []
    updated = 0
    for key, (_, values) in incoming.items():
        rate = existing.get(key)
        if rate is None:
            created.append({"rate_group_id": key[0], **values})
            continue
        changed = {field: value for field, value in values.items() if getattr(rate, field) != value}
        for field, value in changed.items():
            setattr(rate, field, value)
        updated += bool(changed)
    session.flush()
    repository.insert_rates(session, created)
    record(
        session,
        "import",
        "rates",
        None,
        {"file": name, "created": len(created), "updated": updated},
    )
    return ImportSummary(created=len(created), updated=updated)


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
