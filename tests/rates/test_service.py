"""Rate groups and rates: overlaps, prices fixed once used."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from telecrm.errors import Conflict, ValidationFailed
from telecrm.rates import service
from telecrm.rates.models import Rate
from telecrm.rates.schemas import PriceChange, RateCreate, RateGroupCreate, RateUpdate
from tests import factories

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = ZoneInfo("UTC")


def _rate(**fields: object) -> RateCreate:
    values: dict[str, object] = {
        "rate_prefix": "62",
        "rate_type": "per_minute",
        "billing_rate": "1000",
        "billing_cycle": 60,
    }
    return RateCreate.model_validate(values | fields)


def test_a_rate_overlapping_another_of_its_destination_is_refused(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    service.create_rate(db_session, group.id, _rate(effective_to="2025-01-01"), UTC)
    # "62" + "" and "6" + "2" are the same destination
    with pytest.raises(Conflict, match="overlaps"):
        service.create_rate(db_session, group.id, _rate(rate_prefix="6", area_prefix="2"), UTC)
    service.create_rate(db_session, group.id, _rate(effective_from="2025-01-01"), UTC)
    other = factories.rate_group(db_session)
    service.create_rate(db_session, other.id, _rate(), UTC)  # another group: no conflict


def test_times_without_a_zone_are_in_the_billing_time_zone(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    rate = service.create_rate(db_session, group.id, _rate(effective_from="2025-11-01"), JAKARTA)
    db_session.expire(rate)
    assert rate.effective_from == dt.datetime(2025, 10, 31, 17, tzinfo=dt.UTC)


def test_an_empty_effective_range_is_refused(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    with pytest.raises(ValidationFailed, match="not after"):
        service.create_rate(
            db_session,
            group.id,
            _rate(effective_from="2025-02-01", effective_to="2025-01-01"),
            UTC,
        )


def test_a_used_rate_keeps_its_price_but_can_be_ended_and_renamed(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62812")
    factories.cdr(db_session, factories.contract(db_session, group), rate_obj=rate, cost="1000")
    with pytest.raises(Conflict, match="billing_rate may not change"):
        service.update_rate(db_session, rate.id, RateUpdate(billing_rate=Decimal(900)), UTC)
    with pytest.raises(Conflict, match="rated calls"):
        service.delete_rate(db_session, rate.id)
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    service.update_rate(
        db_session, rate.id, RateUpdate(description="Telkomsel", effective_to=end), UTC
    )
    assert (rate.description, rate.effective_to) == ("Telkomsel", end)
    successor = service.create_rate(
        db_session,
        group.id,
        _rate(rate_prefix="62812", billing_rate="900", effective_from=end),
        UTC,
    )
    assert successor.billing_rate == Decimal(900)


def test_an_unused_rate_can_be_repriced_and_deleted(db_session: Session) -> None:
    rate = factories.rate(db_session)
    service.update_rate(db_session, rate.id, RateUpdate(billing_rate=Decimal("0.5")), UTC)
    assert rate.billing_rate == Decimal("0.5")
    service.delete_rate(db_session, rate.id)
    assert db_session.get(Rate, rate.id) is None


def test_an_update_may_not_empty_a_required_field(db_session: Session) -> None:
    rate = factories.rate(db_session)
    with pytest.raises(ValidationFailed, match="billing_rate"):
        service.update_rate(db_session, rate.id, RateUpdate(billing_rate=None), UTC)


def test_a_group_in_use_cannot_be_deleted(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    factories.contract(db_session, group)
    with pytest.raises(Conflict, match="1 contracts"):
        service.delete_group(db_session, group.id)


def test_group_names_are_unique(db_session: Session) -> None:
    service.create_group(db_session, RateGroupCreate(name="Retail"))
    with pytest.raises(Conflict, match="already exists"):
        service.create_group(db_session, RateGroupCreate(name="Retail"))


def test_a_price_change_keeps_a_used_rate_and_adds_the_new_price_from_that_instant(
    db_session: Session,
) -> None:
    zone = ZoneInfo("Asia/Jakarta")
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, billing_rate=Decimal(1000), description="Mobile")
    factories.cdr(db_session, factories.contract(db_session, group), rate_obj=rate, cost="1000")
    with pytest.raises(Conflict):  # its price may not change in place
        service.update_rate(db_session, rate.id, RateUpdate(billing_rate=Decimal(1200)), zone)

    change = PriceChange(billing_rate=Decimal(1200), effective_from=dt.datetime(2026, 1, 1))
    ended, started = service.change_price(db_session, rate.id, change, zone)

    midnight = dt.datetime(2026, 1, 1, tzinfo=zone)
    assert ended.id == rate.id and ended.billing_rate == Decimal(1000)
    assert ended.effective_to == midnight
    assert started.effective_from == midnight and started.effective_to is None
    assert (started.billing_rate, started.description, started.destination_prefix) == (
        Decimal(1200),
        "Mobile",
        rate.destination_prefix,
    )
    with pytest.raises(ValidationFailed, match="already ends before that instant"):
        service.change_price(db_session, rate.id, change, zone)
    with pytest.raises(ValidationFailed, match="must start after rate"):
        service.change_price(
            db_session,
            started.id,
            PriceChange(billing_rate=Decimal(1), effective_from=midnight),
            zone,
        )
