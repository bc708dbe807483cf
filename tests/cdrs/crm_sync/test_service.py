from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telecrm.cdrs.crm_sync import service
from telecrm.cdrs.crm_sync.models import CrmDailyUsage, SyncLog
from telecrm.cdrs.models import Cdr
from telecrm.cdrs.rating_run.service import process_billing
from telecrm.config import Settings
from telecrm.crm import sync
from telecrm.crm.connector import CrmDomain
from telecrm.rating.types import RatingStatus
from tests import factories
from tests.cdrs.crm_sync.helpers import company, contact, valid_cdrs
from tests.crm.fake_hubspot import FakeHubSpot

KEY = "telecrm_cdr_key"


def _sync(session: Session, settings: Settings, **options: Any) -> service.SyncSummary:
    connector = service.LazyConnector.hubspot(settings)
    try:
        return service.sync_calls(session, connector, settings, **options)
    finally:
        connector.close()


def _logs(session: Session, cdr: Cdr) -> list[tuple[str, int]]:
    rows = session.scalars(
        select(SyncLog).where(SyncLog.cdr_id == cdr.id).order_by(SyncLog.log_id)
    ).all()
    return [(row.status, row.attempt) for row in rows]


def test_a_call_carries_the_cdr_with_its_contact_and_company(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    account = company(db_session, crm_id="9001")
    customer = factories.contract(db_session, account_id=account.account_id)
    contact(db_session, phone="+6281234567890", crm_id="5001")
    outbound = factories.cdr(
        db_session,
        customer,
        status="valid",
        src="1001",
        dst="0812-3456-7890",
        billsec=61,
        duration=66,
        start_time=dt.datetime(2025, 11, 5, 2, 0, 1, tzinfo=dt.UTC),
    )
    inbound = factories.cdr(
        db_session, status="valid", src="+62 812 3456 7890", dst="1002", billsec=0,
        disposition="NO ANSWER",
    )  # fmt: skip
    internal = factories.cdr(db_session, status="valid", src="1001", dst="1002", disposition="BUSY")

    summary = _sync(db_session, sync_settings)

    assert (summary.synced, summary.failed, summary.batches) == (3, 0, 1)
    call = hubspot.find("calls", KEY, outbound.unique_key)
    assert call is not None
    props = call["properties"]
    assert props["hs_timestamp"] == "2025-11-05T02:00:01.000+00:00"
    assert (props["hs_call_from_number"], props["hs_call_to_number"]) == ("1001", "+6281234567890")
    assert props["hs_call_duration"] == "61000"
    assert props["hs_call_direction"] == "OUTBOUND"
    assert props["hs_call_status"] == "COMPLETED"
    assert props["hs_call_title"] == "Outbound call to +6281234567890"
    assert outbound.call_id in props["hs_call_body"]
    incoming = hubspot.find("calls", KEY, inbound.unique_key)
    assert incoming is not None
    assert hubspot.associations[("calls", "contacts")] == {
        (call["id"], "5001"): "call_to_contact",
        (incoming["id"], "5001"): "call_to_contact",
    }
    assert hubspot.companies_of("calls", call["id"]) == {"9001"}
    assert hubspot.companies_of("calls", incoming["id"]) == set()
    assert incoming["properties"]["hs_call_direction"] == "INBOUND"
    assert incoming["properties"]["hs_call_status"] == "NO_ANSWER"
    assert incoming["properties"]["hs_call_title"] == "Inbound call from +6281234567890"
    extension_call = hubspot.find("calls", KEY, internal.unique_key)
    assert extension_call is not None
    assert "hs_call_direction" not in extension_call["properties"]
    assert extension_call["properties"]["hs_call_status"] == "BUSY"

    db_session.refresh(outbound)
    assert outbound.sync_status == "synced"
    assert outbound.crm_call_id == call["id"]
    assert outbound.sync_attempts == 1 and outbound.synced_at is not None
    assert _logs(db_session, outbound) == [("synced", 1)]


# A number dialled with "00" as its international prefix, under a contract whose rules
# read it so; the installation's rules (set below) would read any 0 as a national one.
DIALLED_00 = "0016502533687"
INTERNATIONAL_00 = [["+", ""], ["00", ""], ["0", "1"]]


@pytest.fixture()
def us_contact(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot, tmp_path: Path
) -> str:
    """A contact whose phone HubSpot holds as "+1 650 253 3687", pulled by the extract
    (which stores it in another notation, E.164); its CRM id."""
    crm_id = hubspot.add(
        "contacts",
        {
            "contact_id": "C-US-1",
            "firstname": "Ada",
            "lastname": "Byron",
            "email": "ada@example.com",
            "phone": "+1 650 253 3687",
            "lead_source": "Referral",
        },
    )
    connector = sync.connector_from_settings(sync_settings)
    assert connector is not None
    with connector:
        extract = sync.extract(db_session, sync_settings, connector, CrmDomain.CONTACTS, tmp_path)
    assert (extract.report.new, extract.report.rejected) == (1, [])
    return crm_id


@pytest.mark.parametrize("rated", [True, False], ids=["rated", "not-rated-yet"])
def test_a_number_dialled_with_00_reaches_the_crm_in_e164_with_its_contact(
    db_session: Session,
    sync_settings: Settings,
    hubspot: FakeHubSpot,
    us_contact: str,
    rated: bool,
) -> None:
    settings = sync_settings.model_copy(update={"rewrite_rules": [("0", "62")]})
    group = factories.rate_group(db_session)
    factories.rate(db_session, group, rate_prefix="1")
    customer = factories.contract(db_session, group, rewrite_rules=INTERNATIONAL_00)
    call = factories.cdr(db_session, customer, status="valid", src="1001", dst=DIALLED_00)
    if rated:
        day = dt.datetime(2025, 11, 5, tzinfo=dt.UTC)
        process_billing(db_session, day, day + dt.timedelta(days=1), False, settings)
        db_session.expire(call, ["rating"])
        assert (call.rating_status, call.cleaned_number) == (RatingStatus.RATED, "16502533687")

    assert _sync(db_session, settings).synced == 1

    pushed = hubspot.find("calls", KEY, call.unique_key)
    assert pushed is not None
    props = pushed["properties"]
    assert (props["hs_call_from_number"], props["hs_call_to_number"]) == ("1001", "+16502533687")
    assert props["hs_call_direction"] == "OUTBOUND"
    assert props["hs_call_title"] == "Outbound call to +16502533687"
    assert hubspot.associations[("calls", "contacts")] == {
        (pushed["id"], us_contact): "call_to_contact"
    }


def test_only_validated_cdrs_are_pushed(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    factories.cdr(db_session, status="new")
    factories.cdr(db_session, status="invalid")
    factories.cdr(db_session, status="valid")
    factories.cdr(db_session, cost="1", status="valid")  # rated
    factories.cdr(db_session, rating_status=RatingStatus.UNRATED, status="valid")
    invoiced = factories.cdr(db_session, cost="1", status="valid")
    factories.rate_cdr(db_session, invoiced, invoice_id=factories.invoice(db_session).id)
    assert invoiced.lifecycle_status == "invoiced"
    assert _sync(db_session, sync_settings).synced == 4
    assert hubspot.count("calls") == 4


def test_batches_of_100_and_a_second_run_pushes_nothing(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    valid_cdrs(db_session, 250)
    summary = _sync(db_session, sync_settings)
    assert (summary.batches, summary.synced, summary.requests) == (3, 250, 3)
    assert hubspot.posts("/calls/batch/upsert") == 3
    assert hubspot.count("calls") == 250
    assert _sync(db_session, sync_settings).batches == 0
    assert hubspot.posts("/calls/batch/upsert") == 3


def test_429_with_and_without_retry_after_and_500_lose_and_duplicate_nothing(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    cdrs = valid_cdrs(db_session, 120)
    hubspot.fail(429, retry_after="1", path_contains="/calls/batch/upsert")
    hubspot.fail(429, path_contains="/calls/batch/upsert")
    hubspot.fail(500, path_contains="/calls/batch/upsert")
    hubspot.fail(None, after_processing=True, path_contains="/calls/batch/upsert")

    patient = sync_settings.model_copy(update={"hubspot_max_attempts": 5})

    summary = _sync(db_session, patient)

    assert (summary.synced, summary.failed) == (120, 0)
    assert hubspot.posts("/calls/batch/upsert") == 6  # 4 faults, then both batches
    assert hubspot.count("calls") == 120
    keys = [call["properties"][KEY] for call in hubspot.objects["calls"].values()]
    assert sorted(keys) == sorted(cdr.unique_key for cdr in cdrs)


def test_a_refused_call_backs_off_then_stays_failed_until_requeued(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    good, bad = valid_cdrs(db_session, 2)
    hubspot.refused.add(("calls", bad.unique_key))
    started = dt.datetime.now(dt.UTC)

    first = _sync(db_session, sync_settings)
    db_session.refresh(bad)
    assert (first.synced, first.failed) == (1, 1)
    assert bad.sync_status == "failed" and bad.sync_attempts == 1
    assert "Property values were not valid" in (bad.sync_message or "")
    assert bad.next_sync_at is not None
    assert 60 <= (bad.next_sync_at - started).total_seconds() <= 130  # 60 s + jitter
    assert first.examples[0]["cdr_id"] == bad.id

    assert _sync(db_session, sync_settings).batches == 0  # not due yet

    for attempt in (2, 3):
        bad.next_sync_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db_session.flush()
        assert _sync(db_session, sync_settings).failed == 1
        db_session.refresh(bad)
        assert bad.sync_attempts == attempt
    assert bad.next_sync_at is None  # out of attempts: waits for a person
    assert _sync(db_session, sync_settings).batches == 0

    hubspot.refused.clear()
    assert service.requeue_failed(db_session) == 1
    assert _sync(db_session, sync_settings).synced == 1
    db_session.refresh(bad)
    assert bad.sync_status == "synced"
    assert _logs(db_session, bad) == [("failed", 1), ("failed", 2), ("failed", 3), ("synced", 1)]
    assert hubspot.count("calls") == 2
    db_session.refresh(good)
    assert _logs(db_session, good) == [("synced", 1)]


def test_a_failed_call_leased_to_a_running_sync_is_not_requeued_until_released(
    db_session: Session,
) -> None:
    leased, free = valid_cdrs(db_session, 2)
    lease_ends = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    owner = "worker-2:4242"
    # a running sync (on another machine) took the failed call in its batch to retry
    # it (the lease); the other failed call is no one's
    leased.sync_status, leased.sync_attempts = "failed", 1
    leased.sync_lease_owner, leased.next_sync_at = owner, lease_ends
    free.sync_status, free.sync_attempts = "failed", 3
    db_session.flush()

    assert service.requeue_failed(db_session) == 1
    db_session.refresh(leased)
    db_session.refresh(free)
    assert (free.sync_status, free.sync_attempts) == ("pending", 0)
    # still the running sync's: not due to another run while its batch is out
    assert (leased.sync_status, leased.sync_attempts) == ("failed", 1)
    assert (leased.sync_lease_owner, leased.next_sync_at) == (owner, lease_ends)

    # its run is over (a person names it gone): released, the call can be requeued
    assert service.release_dead_leases(db_session, [owner]).released == {owner: 1}
    assert service.requeue_failed(db_session) == 1
    db_session.refresh(leased)
    assert (leased.sync_status, leased.sync_attempts, leased.next_sync_at) == ("pending", 0, None)


def test_a_rate_limit_outlasting_the_retries_defers_without_using_an_attempt(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    (cdr,) = valid_cdrs(db_session, 1)
    hubspot.fail(429, times=3, path_contains="/calls/batch/upsert")

    summary = _sync(db_session, sync_settings)

    assert summary.stop_reason is not None and "rate limit" in summary.stop_reason
    db_session.refresh(cdr)
    assert (cdr.sync_status, cdr.sync_attempts) == ("pending", 0)
    assert _logs(db_session, cdr) == [("deferred", 0)]
    assert _sync(db_session, sync_settings).synced == 1


def test_the_daily_request_limit_holds(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot
) -> None:
    valid_cdrs(db_session, 350)
    limited = sync_settings.model_copy(update={"crm_daily_request_limit": 5})

    summary = _sync(db_session, limited)

    assert (summary.synced, summary.requests) == (300, 3)
    assert summary.stop_reason is not None and "daily limit of 5" in summary.stop_reason
    assert db_session.scalar(select(func.sum(CrmDailyUsage.requests))) == 3
    assert hubspot.count("calls") == 300
    again = _sync(db_session, limited)
    assert again.synced == 0 and again.stop_reason is not None


def test_a_crm_that_refuses_the_token_fails_the_batch_with_its_message(
    db_session: Session, sync_settings: Settings
) -> None:
    (cdr,) = valid_cdrs(db_session, 1)
    wrong = sync_settings.model_copy(update={"hubspot_token": SecretStr("pat-wrong")})
    summary = _sync(db_session, wrong)
    db_session.refresh(cdr)
    assert summary.failed == 1
    assert cdr.sync_status == "failed"
    assert "401" in (cdr.sync_message or "")


@pytest.mark.parametrize("selected", [True, False])
def test_sync_of_chosen_cdrs(
    db_session: Session, sync_settings: Settings, hubspot: FakeHubSpot, selected: bool
) -> None:
    first, second = valid_cdrs(db_session, 2)
    ids = [second.id] if selected else None
    assert _sync(db_session, sync_settings, cdr_ids=ids).synced == (1 if selected else 2)
    db_session.refresh(first)
    assert first.sync_status == ("pending" if selected else "synced")
