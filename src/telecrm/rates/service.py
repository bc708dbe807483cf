"""Rate groups and their rates: the price list the rating engine reads.

Within a group, two rates for the same destination prefix may not be in effect at
the same instant (the engine could not choose between them). A rate that rated
calls keeps its price: to change a price, end the rate (``effective_to``) and add
a new one from that instant, so that every stored cost can still be explained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from telecrm.clock import to_instant
from telecrm.errors import (
    RateGroupInUse,
    RateGroupNameTaken,
    RateGroupNotFound,
    RateGroupRatesUsed,
    RateInUse,
    RateNotFound,
    RateOverlap,
    ValidationFailed,
)
from telecrm.rates import repository, usage
from telecrm.rates.models import Rate, RateGroup
from telecrm.rates.overlap import Span, overlapping_pairs, range_problem, window
from telecrm.rates.schemas import (
    PriceChange,
    RateCreate,
    RateGroupCreate,
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

# --- rate groups -----------------------------------------------------------------


def _group_reads(
    session: Session, groups_with_rate_counts: Sequence[tuple[RateGroup, int]]
) -> list[RateGroupRead]:
    contracts = usage.contract_counts.ask(
        session, [group.id for group, _ in groups_with_rate_counts]
    )
    return [
        RateGroupRead(
            id=group.id,
            name=group.name,
            memo=group.memo,
            rate_count=rate_count,
            contract_count=contracts.get(group.id, 0),
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
        for group, rate_count in groups_with_rate_counts
    ]


def _group_read(session: Session, group: RateGroup) -> RateGroupRead:
    return _group_reads(session, [(group, repository.rate_count(session, group.id))])[0]


def require_group(session: Session, group_id: int) -> RateGroup:
    group = repository.get_group(session, group_id)
    if group is None:
        raise RateGroupNotFound(f"rate group {group_id} not found")
    return group


def list_groups(session: Session) -> list[RateGroupRead]:
    return _group_reads(session, repository.list_groups_with_rate_counts(session))


def get_group(session: Session, group_id: int) -> RateGroupRead:
    return _group_read(session, require_group(session, group_id))


def _check_name_free(session: Session, name: str, group_id: int | None) -> None:
    other = repository.get_group_by_name(session, name)
    if other is not None and other.id != group_id:
        raise RateGroupNameTaken(f"a rate group named {name!r} already exists (id {other.id})")


def create_group(session: Session, data: RateGroupCreate) -> RateGroupRead:
    _check_name_free(session, data.name, None)
    group = RateGroup(name=data.name, memo=data.memo)
    repository.add(session, group)
    return _group_reads(session, [(group, 0)])[0]


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
    return _group_read(session, group)


def delete_group(session: Session, group_id: int) -> None:
    group = require_group(session, group_id)
    contracts = usage.contract_counts.ask(session, [group_id]).get(group_id, 0)
    if contracts:
        raise RateGroupInUse(
            f"rate group {group_id} is the rate group of {contracts} contracts; "
            "move them to another group first"
        )
    if usage.group_has_used_rates.ask(session, group_id):
        raise RateGroupRatesUsed(f"rates of rate group {group_id} rated calls; they must stay")
    repository.delete(session, group)


# --- rates -----------------------------------------------------------------------


def require_rate(session: Session, rate_id: int) -> Rate:
    rate = repository.get_rate(session, rate_id)
    if rate is None:
        raise RateNotFound(f"rate {rate_id} not found")
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
        raise RateOverlap(
            f"{other.label} for destination {candidate.destination} is in effect from "
            f"{window(other)}, which overlaps {window(candidate)}; end it first"
        )


def create_rate(session: Session, group_id: int, data: RateCreate, tz: ZoneInfo) -> Rate:
    require_group(session, group_id)
    values = data.model_dump()
    values["effective_from"] = to_instant(data.effective_from, tz)
    values["effective_to"] = to_instant(data.effective_to, tz)
    if problem := range_problem(values["effective_from"], values["effective_to"]):
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
    if repriced and usage.used_rate_ids.ask(session, [rate.id]):
        raise RateInUse(
            f"rate {rate.id} has rated calls, so its {', '.join(repriced)} may not change: "
            "end it (effective_to) and add a new rate from that instant"
        )
    merged = {
        field: changes.get(field, getattr(rate, field))
        for field in ("rate_prefix", "area_prefix", "effective_from", "effective_to")
    }
    if problem := range_problem(merged["effective_from"], merged["effective_to"]):
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
    if usage.used_rate_ids.ask(session, [rate.id]):
        raise RateInUse(f"rate {rate.id} has rated calls and must stay; end it with effective_to")
    repository.delete(session, rate)


def change_price(
    session: Session, rate_id: int, data: PriceChange, tz: ZoneInfo
) -> tuple[Rate, Rate]:
    """Change a price the way a rate that rated calls allows: end the rate at
    ``data.effective_from`` and add a rate for the same destination with the new price
    from that instant (until the old rate's end). Returns (the ended rate, the new)."""
    rate = require_rate(session, rate_id)
    at = to_instant(data.effective_from, tz) or data.effective_from
    if rate.effective_from is not None and at <= rate.effective_from:
        raise ValidationFailed(
            f"effective_from: the new price must start after rate {rate.id} starts "
            f"({rate.effective_from.isoformat()})"
        )
    if rate.effective_to is not None and at >= rate.effective_to:
        raise ValidationFailed(
            f"effective_from: rate {rate.id} already ends before that instant; add a new rate"
        )
    ended_at = rate.effective_to
    update_rate(session, rate.id, RateUpdate(effective_to=at), tz)
    values = {field: getattr(rate, field) for field in PRICING_FIELDS}
    values.update(description=rate.description, effective_from=at, effective_to=ended_at)
    values.update(data.model_dump(exclude={"effective_from"}, exclude_none=True))
    new = create_rate(session, rate.rate_group_id, RateCreate.model_validate(values), tz)
    return rate, new
