"""Rate deck and rate group imports: every bad row by line, all or nothing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecrm.errors import ValidationFailed
from telecrm.rates import imports, service
from telecrm.rates.models import Rate, RateGroup
from telecrm.rates.schemas import RateGroupCreate
from telecrm.rating.types import RateType
from tests import factories

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = ZoneInfo("UTC")
DECK_HEADER = (
    "rate_group_id,rate_prefix,area_prefix,description,rate_type,billing_rate,billing_cycle,"
    "initial_increment,connect_fee,effective_from,effective_to\n"
)


def _import(session: Session, text: str, group_id: int | None = None, tz: ZoneInfo = UTC):  # type: ignore[no-untyped-def]
    return imports.import_rates(session, io.StringIO(text), "deck.csv", tz, group_id=group_id)


def test_a_deck_is_imported_and_importing_it_again_changes_nothing(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    deck = DECK_HEADER + (
        f"{group.id},62,,Indonesia,per_minute,5000,60,,,,\n"
        f"{group.id},62,812,Telkomsel,per_minute,1200,6,30,100,2025-01-01,\n"
        f"{group.id},62,812,Telkomsel,per_minute,1500,6,30,100,,2025-01-01\n"
        f"{group.id},1,,USA,per_second,0.00125,1,,,,\n"
    )
    assert _import(db_session, deck, tz=JAKARTA).model_dump() == {"created": 4, "updated": 0}
    assert _import(db_session, deck, tz=JAKARTA).model_dump() == {"created": 0, "updated": 0}
    telkomsel = db_session.scalars(
        select(Rate).where(Rate.area_prefix == "812", Rate.effective_from.is_not(None))
    ).one()
    assert (telkomsel.initial_increment, telkomsel.connect_fee, telkomsel.effective_from) == (
        30,
        Decimal(100),
        dt.datetime(2024, 12, 31, 17, tzinfo=dt.UTC),
    )
    usa = db_session.scalars(select(Rate).where(Rate.rate_prefix == "1")).one()
    assert (usa.rate_type, usa.billing_rate) == (RateType.PER_SECOND, Decimal("0.00125"))

    repriced = deck.replace("5000", "4500")
    assert _import(db_session, repriced, tz=JAKARTA).model_dump() == {"created": 0, "updated": 1}


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    factories.rate(db_session, group, "44")
    deck = DECK_HEADER + (
        f"{group.id},62,,ok,per_minute,5000,60,,,,\n"  # line 2
        f"{group.id},6a2,,letters,per_minute,5000,60,,,,\n"  # 3
        f"{group.id},63,,zero cycle,per_minute,5000,0,,,,\n"  # 4
        f"{group.id},64,,bad type,per_call,5000,60,,,,\n"  # 5
        f"{group.id},65,,negative,per_minute,-1,60,,,,\n"  # 6
        f"{group.id},66,,range,per_minute,1,60,,,2025-02-01,2025-01-01\n"  # 7
        f"{group.id},62,,again,per_minute,1,60,,,,\n"  # 8: same key as line 2
        f"{group.id},44,,overlap,per_minute,1,60,,,2025-01-01,\n"  # 9: overlaps rate 44
        "999999,67,,no group,per_minute,1,60,,,,\n"  # 10
        f"{group.id},68,too,few\n"  # 11
        f"{group.id},69,,date,per_minute,1,60,,,yesterday,\n"  # 12
    )
    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, deck)
    by_line = {row["line"]: row["message"] for row in caught.value.detail}
    assert sorted(by_line) == list(range(3, 13))
    assert "rate_prefix" in by_line[3]
    assert "billing_cycle" in by_line[4]
    assert "rate_type" in by_line[5]
    assert "billing_rate" in by_line[6]
    assert "not after" in by_line[7]
    assert "line 2" in by_line[8]
    assert "overlaps rate" in by_line[9]
    assert "no such rate group" in by_line[10]
    assert "4 columns" in by_line[11]
    assert "effective_from" in by_line[12]
    assert "10 bad rows, nothing imported" in caught.value.message
    assert db_session.scalar(select(func.count()).select_from(Rate)) == 1


def test_a_deck_may_not_reprice_a_used_rate(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    rate = factories.rate(db_session, group, "62", billing_rate="5000")
    factories.cdr(db_session, factories.contract(db_session, group), rate_obj=rate, cost="5000")
    with pytest.raises(ValidationFailed, match="line 2: changes the price of rate"):
        _import(db_session, DECK_HEADER + f"{group.id},62,,x,per_minute,4000,60,,,,\n")


def test_a_deck_uploaded_to_a_group_may_leave_the_group_out(db_session: Session) -> None:
    group = factories.rate_group(db_session)
    other = factories.rate_group(db_session)
    deck = "rate_prefix,rate_type,billing_rate,billing_cycle\n62,flat_rate,3000,60\n"
    assert _import(db_session, deck, group_id=group.id).created == 1
    wrong = (
        "rate_group_id,rate_prefix,rate_type,billing_rate,billing_cycle\n"
        f"{other.id},63,flat_rate,1,60\n"
    )
    with pytest.raises(ValidationFailed, match="the deck is for group"):
        _import(db_session, wrong, group_id=group.id)


def test_a_header_with_missing_or_unknown_columns_is_refused(db_session: Session) -> None:
    with pytest.raises(ValidationFailed, match="missing columns: billing_cycle"):
        _import(db_session, "rate_group_id,rate_prefix,rate_type,billing_rate\n")
    with pytest.raises(ValidationFailed, match="unknown columns: price"):
        _import(db_session, DECK_HEADER.strip() + ",price\n")


def test_rate_groups_are_imported_with_their_ids(db_session: Session) -> None:
    text = "id,name,memo\n501,Retail,per minute\n502,Wholesale,\n"
    summary = imports.import_groups(db_session, io.StringIO(text), "groups.csv")
    assert summary.model_dump() == {"created": 2, "updated": 0}
    assert db_session.get(RateGroup, 502).name == "Wholesale"
    renamed = "id,name\n501,Retail IDR\n"
    assert imports.import_groups(db_session, io.StringIO(renamed), "groups.csv").updated == 1
    assert db_session.get(RateGroup, 501).memo == "per minute"  # column left out: kept
    # the id sequence moved past the imported ids
    created = service.create_group(db_session, RateGroupCreate(name="New"))
    assert created.id > 502


def test_rate_group_rows_with_taken_names_or_repeated_ids_are_refused(db_session: Session) -> None:
    factories.rate_group(db_session, name="Taken")
    text = "id,name\n601,Taken\n602,A\n602,B\n603,A\n"
    with pytest.raises(ValidationFailed) as caught:
        imports.import_groups(db_session, io.StringIO(text), "groups.csv")
    assert [row["line"] for row in caught.value.detail] == [2, 4, 5]
    assert db_session.get(RateGroup, 602) is None
