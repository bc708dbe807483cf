"""The rated calls' answers to the reference data below: which rates and contracts
calls were rated with (see ``telecrm.usage``)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecrm.cdrs.models import CdrRating
from telecrm.contracts import usage as contract_usage
from telecrm.rates import usage as rate_usage
from telecrm.rates.models import Rate


@rate_usage.used_rate_ids.answer_with
def used_rate_ids(session: Session, rate_ids: Collection[int]) -> set[int]:
    """Those of ``rate_ids`` that a rated call refers to."""
    if not rate_ids:
        return set()
    found = session.scalars(
        select(CdrRating.rate_id).where(CdrRating.rate_id.in_(rate_ids)).distinct()
    )
    return {rate_id for rate_id in found if rate_id is not None}


@rate_usage.group_has_used_rates.answer_with
def group_has_used_rates(session: Session, group_id: int) -> bool:
    used = (
        select(CdrRating.cdr_id)
        .join(Rate, Rate.id == CdrRating.rate_id)
        .where(Rate.rate_group_id == group_id)
    )
    return bool(session.scalar(select(used.exists())))


@contract_usage.has_calls.answer_with
def has_calls(session: Session, contract_id: int) -> bool:
    return (
        session.scalar(
            select(select(CdrRating.cdr_id).where(CdrRating.contract_id == contract_id).exists())
        )
        or False
    )
