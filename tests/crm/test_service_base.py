"""Seed 003's operations of the generic CRM service, on the database only."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account, Region
from telecrm.accounts.schemas import AccountDTO
from telecrm.accounts.service import AccountService
from telecrm.config import Settings
from telecrm.contacts.service import ContactService
from telecrm.crm.hubspot import HubSpotConnector
from telecrm.db import unit_of_work
from telecrm.deals.models import Deal, DealStage
from telecrm.deals.schemas import DealCreate, DealDTO
from telecrm.deals.service import DealService
from telecrm.errors import Conflict, ExternalServiceError, NotFound, ValidationFailed
from tests import factories
from tests.crm.fake_hubspot import FakeHubSpot

T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


def _account(account_id: int, **fields: Any) -> AccountDTO:
    values: dict[str, Any] = {
        "account_id": account_id,
        "account_name": f"Account {account_id}",
        "industry": "Retail",
        "account_value": Decimal("1000.00"),
        "region": Region.ASIA,
        **fields,
    }
    return AccountDTO.model_validate(values)


def _raw_account(account_id: Any, **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "account_name": f"Account {account_id}",
        "industry": "Retail",
        "account_value": "1000",
        "region": "Asia",
        **fields,
    }


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session runs inside the block."""
    seen: list[str] = []
    engine = session.get_bind()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def stored_deal(session: Session, deal_id: int) -> Deal:
    deal = session.scalars(select(Deal).where(Deal.deal_id == deal_id)).one()
    session.refresh(deal)
    return deal


@pytest.fixture()
def accounts(db_session: Session, settings: Settings) -> AccountService:
    return AccountService(db_session, settings)


# --- find_all, find_by_id, find_by_field_name ----------------------------------------


def test_find_all_returns_every_record_as_a_dto_in_key_order(
    accounts: AccountService, db_session: Session
) -> None:
    factories.account(db_session, account_id=20, account_name="Beta")
    factories.account(db_session, account_id=10, account_name="Alpha")
    found = accounts.find_all()
    assert [(a.account_id, a.account_name) for a in found] == [(10, "Alpha"), (20, "Beta")]
    assert all(isinstance(a, AccountDTO) for a in found)


def test_find_by_id_is_by_business_id_and_casts_text(
    accounts: AccountService, db_session: Session
) -> None:
    factories.account(db_session, account_id=7, account_name="Seven")
    assert accounts.find_by_id("7").account_name == "Seven"
    with pytest.raises(NotFound, match="no account with account_id 8"):
        accounts.find_by_id(8)
    with pytest.raises(ValidationFailed, match=r"is not a valid accounts\.account_id"):
        accounts.find_by_id("seven")


def test_find_by_field_name_is_one_filtered_query(
    accounts: AccountService, db_session: Session
) -> None:
    factories.account(db_session, account_id=1, region=Region.EUROPE)
    factories.account(db_session, account_id=2, region=Region.ASIA)
    factories.account(db_session, account_id=3, region=Region.EUROPE)
    with statements(db_session) as seen:
        found = accounts.find_by_field_name("region", "Europe")
    assert [a.account_id for a in found] == [1, 3]
    [query] = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert "WHERE accounts.region = " in query


def test_find_by_field_name_casts_and_explains_bad_values(
    db_session: Session, settings: Settings
) -> None:
    service = DealService(db_session, settings)
    deal = factories.deal(
        db_session, deal_size=Decimal("24456.50"), deal_stage=DealStage.CLOSED_WON
    )
    factories.deal(db_session, deal_size=None)
    assert [d.deal_id for d in service.find_by_field_name("deal_size", "24456.5")] == [deal.deal_id]
    assert len(service.find_by_field_name("deal_size", "")) == 1  # blank: no size
    with pytest.raises(ValidationFailed, match=r"deal_stage is one of 'Prospecting'"):
        service.find_by_field_name("deal_stage", "Won")
    with pytest.raises(ValidationFailed, match="deals has no field 'colour'"):
        service.find_by_field_name("colour", "red")


# --- update_one, update_many and the change detection ------------------------------------


def test_update_one_inserts_then_updates_then_sees_no_change(
    accounts: AccountService, db_session: Session
) -> None:
    assert accounts.update_one(_account(5)).new == 1
    assert accounts.update_one(_account(5, industry="Banking")).changed == 1
    assert accounts.update_one(_account(5, industry="Banking")).unchanged == 1
    assert accounts.find_by_id(5).industry == "Banking"


def test_update_many_writes_one_batch_of_only_what_changed(
    accounts: AccountService, db_session: Session
) -> None:
    accounts.update_many([_account(n) for n in range(1, 5)])
    batch = [
        _account(1),  # unchanged
        _account(2, account_value=Decimal("2000")),  # changed
        _account(3, region=Region.EUROPE),  # changed
        _account(4),  # unchanged
        _account(5),  # new
        _account(6),  # new
    ]
    with statements(db_session) as seen:
        report = accounts.update_many(batch)
    assert (report.new, report.changed, report.unchanged) == (2, 2, 2)
    writes = [s.split()[0].upper() for s in seen if s.split()[0].upper() in ("INSERT", "UPDATE")]
    assert writes == ["INSERT", "UPDATE"]
    assert accounts.find_by_id(3).region is Region.EUROPE
    assert accounts.find_by_id(2).account_value == Decimal("2000.00")


def test_change_detection_compares_normalised_values(
    accounts: AccountService, db_session: Session
) -> None:
    accounts.update_many([_account(1, account_name="Acme", account_value=Decimal("100.00"))])
    cleaned = accounts.clean_crm_data(
        [_raw_account(" 1 ", account_name="  Acme ", account_value="100", region="Asia")]
    )
    assert accounts.update_many(cleaned.records).unchanged == 1


def test_update_many_leaves_records_with_a_pending_change_alone(
    accounts: AccountService, db_session: Session
) -> None:
    factories.account(db_session, account_id=1, industry="Local edit", crm_sync_error="boom")
    report = accounts.update_many([_account(1, industry="From the CRM")])
    assert report.pending == 1
    assert accounts.find_by_id(1).industry == "Local edit"


def test_update_many_reports_records_the_database_would_refuse(
    db_session: Session, settings: Settings
) -> None:
    accounts = AccountService(db_session, settings)
    factories.account(db_session, account_id=1, crm_id="900")
    report = accounts.update_many([_account(2, crm_id="900"), _account(3, crm_id="901")])
    assert report.new == 1
    [rejected] = report.rejected
    assert rejected.key == "2"
    assert rejected.reason == "crm_id 900 belongs to account_id 1 here"
    deals = DealService(db_session, settings)
    deal = DealDTO(
        deal_id=1,
        deal_name="x",
        probability_of_closure="1%",
        deal_stage=DealStage.PROSPECTING,
        account_id=4242,
        created_at=T0,
    )
    assert deals.update_many([deal]).rejected[0].reason == "no account with account_id 4242"
    with pytest.raises(ValidationFailed, match="twice"):
        accounts.update_many([_account(9), _account(9)])


# --- clean_crm_data -----------------------------------------------------------------------


def test_clean_reports_rows_missing_a_required_field_and_keeps_optional_ones_empty(
    db_session: Session, settings: Settings
) -> None:
    deals = DealService(db_session, settings)
    base = {
        "deal_name": "PBX",
        "probability_of_closure": "50%",
        "deal_stage": "Prospecting",
        "account_id": 1,
        "created_at": "2024-03-01T10:00:00Z",
    }
    rows = [
        {**base, "deal_id": 1, "deal_size": ""},  # optional missing: kept, None
        {**base, "deal_id": 2, "deal_name": "  "},  # required blank
        {**base, "deal_id": 3, "deal_stage": None, "probability_of_closure": float("nan")},
        {**base, "deal_id": 4, "deal_size": "12.345"},  # invalid: three decimals
        {**base, "deal_id": 5, "account_id": None},
    ]
    result = deals.clean_crm_data(rows)
    assert [(r.deal_id, r.deal_size) for r in result.records] == [(1, None)]
    assert [(r.row, r.key, r.reason) for r in result.rejected] == [
        (2, "2", "missing deal_name"),
        (3, "3", "missing probability_of_closure, deal_stage"),
        (4, "4", "deal_size: Decimal input should have no more than 2 decimal places"),
        (5, "5", "missing account_id (no associated company that is an account here)"),
    ]


def test_clean_removes_duplicates_keeping_the_one_updated_last(accounts: AccountService) -> None:
    rows = [
        _raw_account(1, industry="old", crm_id="a", crm_updated_at=T0),
        _raw_account(2, industry="only"),
        _raw_account(1, industry="new", crm_id="b", crm_updated_at=T0 + dt.timedelta(days=1)),
        _raw_account(1, industry="older", crm_id="c", crm_updated_at=T0 - dt.timedelta(days=1)),
    ]
    result = accounts.clean_crm_data(rows)
    assert [(r.account_id, r.industry) for r in result.records] == [(1, "new"), (2, "only")]
    assert [(r.row, r.crm_id) for r in result.rejected] == [(1, "a"), (4, "c")]
    assert (
        result.rejected[0].reason == "duplicate account_id 1: row 3 is kept (the one updated last)"
    )


def test_clean_reports_enum_values_that_are_not_ours(accounts: AccountService) -> None:
    result = accounts.clean_crm_data([_raw_account(1, region="Mars")])
    assert result.records == []
    assert (
        result.rejected[0].reason == "region: Input should be 'North America', 'Europe' or 'Asia'"
    )


# --- load_to_df, save_crm_data_to_json / csv, the mappers -----------------------------


def test_load_to_df_gives_a_pandas_frame_of_every_record(
    accounts: AccountService, db_session: Session
) -> None:
    factories.account(db_session, account_id=1, account_value=Decimal("10.25"))
    factories.account(db_session, account_id=2, region=Region.EUROPE)
    frame = accounts.load_to_df()
    assert list(frame.columns) == list(AccountDTO.model_fields)
    assert frame["account_id"].tolist() == [1, 2]
    assert frame["account_value"][0] == Decimal("10.25")
    assert frame["region"].tolist() == ["Asia", "Europe"]


def test_load_to_df_of_an_empty_table_has_the_columns(accounts: AccountService) -> None:
    frame = accounts.load_to_df()
    assert frame.empty
    assert "account_name" in frame.columns


def test_save_to_json_and_csv(
    accounts: AccountService, db_session: Session, tmp_path: Path
) -> None:
    factories.account(db_session, account_id=1, account_name="Acme, Inc.", crm_id="77")
    factories.account(db_session, account_id=2, account_value=Decimal("0.50"))
    json_file = accounts.save_crm_data_to_json(tmp_path / "out" / "accounts.json")
    csv_file = accounts.save_crm_data_to_csv(tmp_path / "out" / "accounts.csv")
    data = json.loads(json_file.read_text())
    assert [row["account_id"] for row in data] == [1, 2]
    assert data[0]["account_name"] == "Acme, Inc."
    assert data[0]["crm_id"] == "77"
    assert data[1]["account_value"] == "0.50"
    with csv_file.open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert rows[0]["account_name"] == "Acme, Inc."
    assert rows[1]["account_value"] == "0.50"
    assert rows[1]["crm_id"] == ""
    assert [AccountDTO.model_validate(row) for row in data] == accounts.find_all()


def test_csv_cells_never_start_a_formula(
    db_session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Names come from the CRM: a cell a spreadsheet would run as a formula gets a
    leading quote; a phone number in E.164 and an amount stay as they are."""
    factories.contact(
        db_session,
        contact_id="C1",
        first_name="@SUM(1+1)",
        last_name="\t=1+1",
        job_title="+cmd|' /C calc'!A0",
        phone="+622155501234",
    )
    factories.contact(db_session, contact_id="-C2", first_name="\r=HYPERLINK(1)")
    contacts = ContactService(db_session, settings)
    with contacts.save_crm_data_to_csv(tmp_path / "contacts.csv").open(newline="") as source:
        rows = list(csv.DictReader(source))
    assert [
        {key: row[key] for key in ("contact_id", "first_name", "last_name", "job_title", "phone")}
        for row in rows
    ] == [
        {
            "contact_id": "'-C2",
            "first_name": "'=HYPERLINK(1)",  # stripped when read: the formula is left
            "last_name": "Santoso",
            "job_title": "",
            "phone": "",
        },
        {
            "contact_id": "C1",
            "first_name": "'@SUM(1+1)",
            "last_name": "'=1+1",
            "job_title": "'+cmd|' /C calc'!A0",
            "phone": "+622155501234",
        },
    ]


def test_dto_and_orm_map_both_ways(accounts: AccountService, db_session: Session) -> None:
    record = _account(3, crm_id="55", crm_updated_at=T0)
    obj = accounts._orm_from_crm_dto(record)
    assert isinstance(obj, Account)
    db_session.add(obj)
    db_session.flush()
    db_session.expire(obj)
    assert accounts._crm_dto_from_orm(obj) == record


def test_contact_phones_are_stored_in_e164(db_session: Session, settings: Settings) -> None:
    contacts = ContactService(db_session, settings)
    base = {
        "first_name": "Budi",
        "last_name": "S",
        "email": "b@example.com",
        "lead_source": "Website",
    }
    result = contacts.clean_crm_data(
        [
            {**base, "contact_id": "C1", "phone": "0812-3456-7890"},
            {**base, "contact_id": "C2", "phone": "+44 20 7946 0958"},
            {**base, "contact_id": "C3", "phone": None},
            {**base, "contact_id": "C4", "phone": "12345"},
        ]
    )
    assert [(c.contact_id, c.phone) for c in result.records] == [
        ("C1", "+6281234567890"),
        ("C2", "+442079460958"),
        ("C3", None),
    ]
    assert result.rejected[0].reason.startswith("phone: '12345' is not a valid phone number")
    contacts.update_many(result.records)
    assert [c.contact_id for c in contacts.find_by_field_name("phone", "(0812) 3456 7890")] == [
        "C1"
    ]


# --- writes through to the CRM (the fake HubSpot) ------------------------------------------


@pytest.fixture()
def connector(crm_settings: Settings) -> Iterator[HubSpotConnector]:
    with HubSpotConnector.from_settings(crm_settings) as connector:
        yield connector


@pytest.fixture()
def in_both(
    db_session: Session, crm_settings: Settings, connector: HubSpotConnector, hubspot: FakeHubSpot
) -> dict[str, str]:
    """Accounts 1 and 2 and deals 201-203 in HubSpot, extracted and committed here:
    the HubSpot ids by our keys."""
    ids = {
        "a1": hubspot.add("companies", _hubspot_company(1)),
        "a2": hubspot.add("companies", _hubspot_company(2)),
    }
    for deal_id, company in ((201, "a1"), (202, "a1"), (203, "a2")):
        ids[str(deal_id)] = hubspot.add("deals", _hubspot_deal(deal_id), company=ids[company])
    for service in (
        AccountService(db_session, crm_settings, connector),
        DealService(db_session, crm_settings, connector),
    ):
        service.sync_from_crm(record for page in connector.pages(service.domain) for record in page)
    db_session.commit()
    return ids


def _hubspot_company(account_id: int) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": f"Company {account_id}",
        "industry": "Retail",
        "annualrevenue": "100",
        "region": "Europe",
    }


def _hubspot_deal(deal_id: int) -> dict[str, Any]:
    return {
        "deal_id": deal_id,
        "dealname": f"Deal {deal_id}",
        "amount": "500",
        "probability_of_closure": "50%",
        "dealstage": "appointmentscheduled",
        "createdate": "2024-03-01T10:00:00.000Z",
    }


def test_update_field_sets_every_match_in_the_crm_and_the_database(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    deals = DealService(db_session, crm_settings, connector)
    outcome = deals.update_field("account_id", "1", "deal_stage", "Closed-Won")
    assert (outcome.matched, outcome.changed, outcome.crm) == (2, 2, "HubSpot")
    for deal_id in ("201", "202"):
        assert hubspot.objects["deals"][in_both[deal_id]]["properties"]["dealstage"] == "closedwon"
        assert deals.find_by_id(deal_id).deal_stage is DealStage.CLOSED_WON
    assert (
        hubspot.objects["deals"][in_both["203"]]["properties"]["dealstage"]
        == "appointmentscheduled"
    )
    assert deals.update_field("account_id", "1", "deal_stage", "Closed-Won").changed == 0


def test_update_field_moves_a_deal_to_another_account_in_both(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    DealService(db_session, crm_settings, connector).update_field(
        "deal_id", "203", "account_id", "1"
    )
    assert hubspot.companies_of("deals", in_both["203"]) == {in_both["a1"]}
    with pytest.raises(ValidationFailed, match="no account with account_id 99"):
        DealService(db_session, crm_settings, connector).update_field(
            "deal_id", "203", "account_id", "99"
        )


def test_a_crm_that_takes_nothing_leaves_the_database_as_it_was(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    hubspot.fail(500, times=3, path_contains="batch/upsert")
    with (
        pytest.raises(ExternalServiceError, match=r"nothing was saved here either.*HTTP 500"),
        unit_of_work(db_session),
    ):
        DealService(db_session, crm_settings, connector).update_field(
            "deal_id", "201", "deal_size", "999"
        )
    db_session.expire_all()
    stored = stored_deal(db_session, 201)
    assert stored.deal_size == Decimal("500.00")
    assert stored.crm_sync_error is None


def test_a_change_the_crm_takes_in_part_is_kept_and_marked_pending_until_pushed(
    db_session: Session, crm_settings: Settings, hubspot: FakeHubSpot, in_both: dict[str, str]
) -> None:
    settings = crm_settings.model_copy(update={"hubspot_batch_size": 1})
    hubspot.fail(500, times=3, after=1, path_contains="batch/upsert")
    with HubSpotConnector.from_settings(settings) as connector:
        deals = DealService(db_session, settings, connector)
        with pytest.raises(ExternalServiceError) as raised, unit_of_work(db_session):
            deals.update_field("account_id", "1", "deal_size", "750")
        assert raised.value.keep_changes
        assert "took 1 of 2 deals; the other 1 are saved here and marked pending" in str(
            raised.value
        )
        db_session.expire_all()
        assert stored_deal(db_session, 201).crm_sync_error is None
        assert "HTTP 500" in stored_deal(db_session, 202).crm_sync_error
        assert stored_deal(db_session, 202).deal_size == Decimal("750.00")
        assert hubspot.objects["deals"][in_both["202"]]["properties"]["amount"] == "500"
        assert deals.push_pending() == 1
    assert stored_deal(db_session, 202).crm_sync_error is None
    assert hubspot.objects["deals"][in_both["202"]]["properties"]["amount"] == "750.00"


def test_changes_made_in_the_crm_since_the_extract_are_not_overwritten(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    hubspot.objects["deals"][in_both["201"]]["properties"]["dealname"] = "Renamed in HubSpot"
    hubspot.objects["deals"].pop(in_both["202"])
    deals = DealService(db_session, crm_settings, connector)
    with pytest.raises(Conflict, match=r"deal_id 201, 202 \(deleted there\)\): run 'telecrm crm"):
        deals.update_field("account_id", "1", "deal_size", "1")
    assert hubspot.posts("batch/upsert") == 0


def test_a_dropped_connection_on_a_write_neither_loses_nor_duplicates(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    hubspot.fail(None, after_processing=True, path_contains="batch/upsert")
    hubspot.fail(None, path_contains="batch/upsert")
    DealService(db_session, crm_settings, connector).update_field(
        "deal_id", "203", "deal_size", "42"
    )
    assert hubspot.posts("batch/upsert") == 3
    assert hubspot.count("deals") == 3
    assert hubspot.objects["deals"][in_both["203"]]["properties"]["amount"] == "42.00"
    assert stored_deal(db_session, 203).crm_sync_error is None


def test_a_deal_of_an_account_not_in_the_crm_is_not_written_anywhere(
    db_session: Session, crm_settings: Settings, connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    factories.account(db_session, account_id=77)
    db_session.commit()
    body = DealCreate(
        deal_id=1,
        deal_name="x",
        probability_of_closure="5%",
        deal_stage="Prospecting",
        account_id=77,
    )
    with (
        pytest.raises(ExternalServiceError, match="account 77 is not in the CRM yet"),
        unit_of_work(db_session),
    ):
        DealService(db_session, crm_settings, connector).create(body)
    assert DealService(db_session, crm_settings).find_all() == []
    assert hubspot.count("deals") == 0


def test_delete_archives_in_the_crm_and_keeps_the_record_if_the_crm_refuses(
    db_session: Session,
    crm_settings: Settings,
    connector: HubSpotConnector,
    hubspot: FakeHubSpot,
    in_both: dict[str, str],
) -> None:
    deals = DealService(db_session, crm_settings, connector)
    hubspot.fail(403, path_contains="batch/archive")
    with pytest.raises(ExternalServiceError, match="403"), unit_of_work(db_session):
        deals.delete(201)
    assert deals.find_by_id(201).deal_id == 201
    assert in_both["201"] in hubspot.objects["deals"]
    deals.delete(201)
    assert in_both["201"] not in hubspot.objects["deals"]
    with pytest.raises(NotFound):
        deals.find_by_id(201)
