"""The HubSpot client and connector against the fake HubSpot on loopback."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
from pydantic import SecretStr, ValidationError

from telecrm.config import Settings
from telecrm.crm.connector import ENUM_FIELDS, MAPPED_FIELDS, CrmDomain, OutgoingRecord
from telecrm.crm.hubspot import (
    DEFAULT_ENUM_VALUES,
    DEFAULT_PROPERTIES,
    ENUM_TYPES,
    HubSpotConnector,
)
from telecrm.crm.hubspot_client import HubSpotClient, parse_time
from telecrm.errors import AppError, ExternalServiceError
from tests.crm.fake_hubspot import FakeHubSpot


class Sleeps(list[float]):
    """Records the client's waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture()
def client(hubspot: FakeHubSpot, sleeps: Sleeps) -> HubSpotClient:
    client = HubSpotClient(
        hubspot.url,
        hubspot.token,
        max_attempts=4,
        backoff_seconds=0.5,
        backoff_max_seconds=1.5,
        retry_after_max_seconds=30,
        sleep=sleeps,
    )
    yield client
    client.close()


@pytest.fixture()
def connector(crm_settings: Settings, sleeps: Sleeps) -> HubSpotConnector:
    connector = HubSpotConnector.from_settings(crm_settings, sleep=sleeps)
    yield connector
    connector.close()


def _companies(hubspot: FakeHubSpot, count: int) -> list[str]:
    return [
        hubspot.add(
            "companies",
            {
                "account_id": n,
                "name": f"Company {n}",
                "industry": "Retail",
                "annualrevenue": "10.5",
                "region": "Asia",
            },
        )
        for n in range(1, count + 1)
    ]


def _everything(client: HubSpotClient, object_type: str = "companies") -> list[dict]:
    return [obj for page in client.list_objects(object_type, ["account_id"]) for obj in page]


# --- the client: paging, batches --------------------------------------------------------


def test_list_follows_after_until_the_last_page(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    ids = _companies(hubspot, 250)
    pages = list(client.list_objects("companies", ["account_id", "name"]))
    assert [len(page) for page in pages] == [100, 100, 50]
    assert [obj["id"] for page in pages for obj in page] == ids
    assert pages[2][49]["properties"]["name"] == "Company 250"
    assert hubspot.requests.count(("GET", "/crm/v3/objects/companies")) == 3


def test_batch_read_returns_what_exists_and_the_errors_of_the_rest(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    first, second = _companies(hubspot, 2)
    result = client.batch_read("companies", [first, "999999"], ["name"])
    assert [obj["id"] for obj in result.results] == [first]
    assert result.errors[0]["category"] == "OBJECT_NOT_FOUND"
    by_property = client.batch_read("companies", ["2"], ["name"], id_property="account_id")
    assert [obj["id"] for obj in by_property.results] == [second]


def test_batch_upsert_by_unique_property_creates_once_then_updates(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    created = client.batch_upsert("deals", [("203", {"deal_id": "203", "amount": "1"})], "deal_id")
    updated = client.batch_upsert("deals", [("203", {"deal_id": "203", "amount": "2"})], "deal_id")
    assert created.results[0]["new"] is True
    assert updated.results[0]["new"] is False
    assert created.results[0]["id"] == updated.results[0]["id"]
    assert hubspot.count("deals") == 1
    assert hubspot.find("deals", "deal_id", "203")["properties"]["amount"] == "2"


def test_a_batch_larger_than_hubspot_takes_is_refused_before_sending(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    with pytest.raises(ValueError, match="101 inputs"):
        client.batch_archive("deals", [str(n) for n in range(101)])
    assert hubspot.requests == []


def test_requests_carry_the_bearer_token_and_the_configured_timeouts(
    crm_settings: Settings, hubspot: FakeHubSpot
) -> None:
    settings = crm_settings.model_copy(
        update={"hubspot_connect_timeout": 2.5, "hubspot_read_timeout": 7.0}
    )
    client = HubSpotClient.from_settings(settings)
    timeout = client._http.timeout
    assert (timeout.connect, timeout.read) == (2.5, 7.0)
    assert _everything(client) == []
    wrong = HubSpotClient.from_settings(
        settings.model_copy(update={"hubspot_token": SecretStr("pat-wrong")})
    )
    with pytest.raises(ExternalServiceError, match="refused the access token"):
        _everything(wrong)


# --- the client: failures and retries ---------------------------------------------------


def test_401_is_reported_at_once_without_retrying(
    client: HubSpotClient, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    hubspot.fail(401)
    with pytest.raises(ExternalServiceError, match=r"401.*TELECRM_HUBSPOT_TOKEN"):
        _everything(client)
    assert len(hubspot.requests) == 1
    assert sleeps == []


def test_429_waits_as_long_as_retry_after_says(
    client: HubSpotClient, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    _companies(hubspot, 3)
    hubspot.fail(429, retry_after="7")
    assert len(_everything(client)) == 3
    assert sleeps == [7.0]
    assert len(hubspot.requests) == 2


def test_retry_after_as_an_http_date_and_a_cap_on_long_waits(
    client: HubSpotClient, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    in_ten_seconds = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    hubspot.fail(429, retry_after=email.utils.format_datetime(in_ten_seconds, usegmt=True))
    hubspot.fail(503, retry_after="3600")
    _everything(client)
    assert 8.0 < sleeps[0] <= 10.0
    assert sleeps[1] == 30.0  # retry_after_max_seconds


def test_429_without_retry_after_backs_off_exponentially(
    client: HubSpotClient, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    hubspot.fail(429, times=3)
    assert _everything(client) == []
    assert sleeps == [0.5, 1.0, 1.5]  # doubling, capped at backoff_max_seconds


def test_500_is_retried_and_the_answer_used(
    client: HubSpotClient, hubspot: FakeHubSpot, sleeps: Sleeps
) -> None:
    _companies(hubspot, 2)
    hubspot.fail(500, times=2)
    assert len(_everything(client)) == 2
    assert len(hubspot.requests) == 3


def test_giving_up_after_the_last_attempt_says_what_happened(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    hubspot.fail(500, times=4)
    with pytest.raises(ExternalServiceError, match=r"HTTP 500.*gave up after 4 attempts"):
        _everything(client)
    assert len(hubspot.requests) == 4


def test_a_dropped_connection_is_retried(client: HubSpotClient, hubspot: FakeHubSpot) -> None:
    _companies(hubspot, 150)
    hubspot.fail(None, path_contains="/objects/companies")
    assert len(_everything(client)) == 150


def test_a_lost_answer_to_an_upsert_does_not_duplicate_on_retry(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    hubspot.fail(None, after_processing=True, path_contains="batch/upsert")
    result = client.batch_upsert("deals", [("7", {"deal_id": "7", "amount": "70"})], "deal_id")
    assert hubspot.posts("batch/upsert") == 2
    assert hubspot.count("deals") == 1
    assert result.results[0]["properties"]["amount"] == "70"


def test_network_errors_after_the_last_attempt_become_a_clear_error(
    client: HubSpotClient, hubspot: FakeHubSpot
) -> None:
    hubspot.fail(None, times=4)
    with pytest.raises(ExternalServiceError, match=r"could not be reached.*4 attempts"):
        _everything(client)


def test_hubspot_times_are_read_in_both_notations() -> None:
    assert parse_time("2024-03-01T10:00:00.123Z") == dt.datetime(
        2024, 3, 1, 10, 0, 0, 123000, tzinfo=dt.UTC
    )
    assert parse_time("1709287200000") == dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)
    assert parse_time("") is None


# --- the connector: telecrm's fields and enums --------------------------------------------


def test_pages_map_properties_enum_values_and_the_primary_company(
    connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    company = hubspot.add("companies", {"account_id": 1, "name": "Acme"})
    other = hubspot.add("companies", {"account_id": 2, "name": "Other"})
    deal = hubspot.add(
        "deals",
        {
            "deal_id": 203,
            "dealname": "PBX",
            "amount": "24456",
            "dealstage": "closedwon",
            "probability_of_closure": "90%",
            "createdate": "2024-03-01T10:00:00.000Z",
        },
        company=company,
    )
    hubspot.associate("deals", deal, "companies", other, "deal_to_company_unlabeled")
    [page] = list(connector.pages(CrmDomain.DEALS))
    [record] = page
    assert record.crm_id == deal
    assert record.account_crm_id == company
    assert record.values == {
        "deal_id": "203",
        "deal_name": "PBX",
        "deal_size": "24456",
        "probability_of_closure": "90%",
        "deal_stage": "Closed-Won",
        "created_at": "2024-03-01T10:00:00.000Z",
    }
    assert record.updated_at is not None


def test_upsert_writes_mapped_properties_and_links_the_company(
    connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    company = hubspot.add("companies", {"account_id": 1})
    result = connector.upsert(
        CrmDomain.DEALS,
        [
            OutgoingRecord(
                "203",
                {"deal_id": 203, "deal_stage": "Negotiation", "deal_size": "10.50"},
                account_crm_id=company,
            )
        ],
    )
    stored = hubspot.find("deals", "deal_id", "203")
    assert stored["properties"]["dealstage"] == "contractsent"
    assert stored["properties"]["amount"] == "10.50"
    assert result.written["203"].crm_id == stored["id"]
    assert result.failed == {}
    assert hubspot.companies_of("deals", stored["id"]) == {company}


def test_upsert_moves_the_company_association(
    connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    old = hubspot.add("companies", {"account_id": 1})
    new = hubspot.add("companies", {"account_id": 2})
    deal = hubspot.add("deals", {"deal_id": "5"}, company=old)
    connector.upsert(
        CrmDomain.DEALS,
        [OutgoingRecord("5", {"deal_id": 5}, account_crm_id=new, previous_account_crm_id=old)],
    )
    assert hubspot.companies_of("deals", deal) == {new}


def test_upsert_reports_the_records_hubspot_refused(
    connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    hubspot.refused.add(("companies", "2"))
    result = connector.upsert(
        CrmDomain.ACCOUNTS,
        [OutgoingRecord(str(n), {"account_id": n, "account_name": f"A{n}"}) for n in (1, 2, 3)],
    )
    assert sorted(result.written) == ["1", "3"]
    assert "not valid" in result.failed["2"]
    assert hubspot.count("companies") == 2


def test_a_failing_batch_stops_the_run_and_reports_it_and_the_rest(
    crm_settings: Settings, hubspot: FakeHubSpot
) -> None:
    settings = crm_settings.model_copy(update={"hubspot_batch_size": 2})
    # The first batch goes through; the second fails all its three attempts.
    hubspot.fail(500, times=3, after=1, path_contains="batch/upsert")
    with HubSpotConnector.from_settings(settings) as connector:
        result = connector.upsert(
            CrmDomain.ACCOUNTS,
            [OutgoingRecord(str(n), {"account_id": n}) for n in range(1, 6)],
        )
    assert sorted(result.written) == ["1", "2"]
    assert sorted(result.failed) == ["3", "4", "5"]
    assert "HTTP 500" in result.failed["5"]
    assert hubspot.posts("batch/upsert") == 1 + 3
    assert hubspot.count("companies") == 2


def test_a_failed_association_marks_the_record_failed(
    connector: HubSpotConnector, hubspot: FakeHubSpot
) -> None:
    company = hubspot.add("companies", {"account_id": 1})
    hubspot.fail(400, path_contains="/associations/")
    result = connector.upsert(
        CrmDomain.CONTACTS,
        [OutgoingRecord("C1", {"contact_id": "C1"}, account_crm_id=company)],
    )
    assert result.written == {}
    assert result.failed["C1"].startswith("written, but not its company association")


def test_read_finds_records_by_crm_id(connector: HubSpotConnector, hubspot: FakeHubSpot) -> None:
    [first, _] = _companies(hubspot, 2)
    found = connector.read(CrmDomain.ACCOUNTS, [first, "424242"])
    assert list(found) == [first]
    assert found[first].values["account_name"] == "Company 1"
    assert found[first].values["region"] == "Asia"


def test_archive_removes_the_records(connector: HubSpotConnector, hubspot: FakeHubSpot) -> None:
    [first, second] = _companies(hubspot, 2)
    connector.archive(CrmDomain.ACCOUNTS, [first])
    assert list(hubspot.objects["companies"]) == [second]


def test_property_names_and_enum_values_come_from_the_settings(
    crm_settings: Settings, hubspot: FakeHubSpot
) -> None:
    settings = crm_settings.model_copy(
        update={
            "hubspot_properties": Settings.model_validate(
                {"hubspot_properties": {"deals": {"deal_size": "deal_amount_idr"}}}
            ).hubspot_properties,
            "hubspot_enum_values": Settings.model_validate(
                {"hubspot_enum_values": {"region": {"Asia": "APAC"}}}
            ).hubspot_enum_values,
        }
    )
    with HubSpotConnector.from_settings(settings) as connector:
        connector.upsert(CrmDomain.DEALS, [OutgoingRecord("1", {"deal_id": 1, "deal_size": "5"})])
        connector.upsert(CrmDomain.ACCOUNTS, [OutgoingRecord("9", {"region": "Asia"})])
    assert hubspot.find("deals", "deal_id", "1")["properties"]["deal_amount_idr"] == "5"
    assert hubspot.find("companies", "account_id", "9")["properties"]["region"] == "APAC"


def test_enum_values_that_are_not_ours_are_refused(crm_settings: Settings) -> None:
    settings = crm_settings.model_copy(
        update={"hubspot_enum_values": {"deal_stage": {"Won": "closedwon"}}}
    )
    with pytest.raises(AppError, match="'Won' not a deal_stage"):
        HubSpotConnector.from_settings(settings)
    with pytest.raises(ValidationError, match="deals has no field"):
        Settings.model_validate({"hubspot_properties": {"deals": {"colour": "x"}}})


def test_the_defaults_map_every_field_of_the_connector_contract() -> None:
    assert {domain: tuple(fields) for domain, fields in DEFAULT_PROPERTIES.items()} == (
        MAPPED_FIELDS
    )
    assert set(ENUM_TYPES) == set(ENUM_FIELDS)
    assert set(DEFAULT_ENUM_VALUES) <= set(ENUM_FIELDS)


def test_settings_hold_only_the_overrides_and_the_connector_merges_them(
    crm_settings: Settings, hubspot: FakeHubSpot
) -> None:
    overrides = Settings.model_validate({"hubspot_properties": {"accounts": {"industry": "ind"}}})
    assert overrides.hubspot_properties == {"accounts": {"industry": "ind"}}
    settings = crm_settings.model_copy(update={"hubspot_properties": overrides.hubspot_properties})
    with HubSpotConnector.from_settings(settings) as connector:
        connector.upsert(
            CrmDomain.ACCOUNTS, [OutgoingRecord("9", {"account_name": "A", "industry": "Retail"})]
        )
    properties = hubspot.find("companies", "account_id", "9")["properties"]
    assert (properties["name"], properties["ind"]) == ("A", "Retail")
    with pytest.raises(ValidationError, match="unknown key 'colour'"):
        Settings.model_validate({"hubspot_enum_values": {"colour": {"red": "RED"}}})
