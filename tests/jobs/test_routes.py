"""``/api/jobs``: a job started from the API answers 202 at once and runs on (in a
thread of its own without a broker); its state and progress are read back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.config import get_settings
from tests import factories
from tests.jobs.conftest import ratings


@pytest.fixture()
def api(committed_db: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API on the committed test database, as served: each request its own unit of
    work, jobs run by the app's own dispatcher."""
    get_settings.cache_clear()
    settings = get_settings().model_copy(update={"broker_url": None})
    with Session(committed_db) as session:
        headers = factories.bearer(factories.user(session, role=Role.BILLING), settings)
        session.commit()
    with TestClient(create_app(settings, committed_db)) as client:
        yield client, headers


def test_a_rating_started_from_the_api_answers_202_and_shows_its_progress(
    api: tuple[TestClient, dict[str, str]], committed_db: Engine, days_of_calls: int
) -> None:
    client, headers = api
    answer = client.post(
        "/api/jobs/rating", json={"first": "2025-11-03", "last": "2025-11-05"}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    started = answer.json()
    assert started["state"] == "queued" and started["kind"] == "rate_days"

    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/jobs/{started['id']}", headers=headers).json())[
        "state"
    ] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)

    assert job["state"] == "succeeded", job
    assert (job["done"], job["total"]) == (3, 3)
    assert job["result"]["processed"] == days_of_calls == len(ratings(committed_db))
    parts = client.get("/api/jobs", params={"parent_id": started["id"]}, headers=headers).json()
    assert sorted(part["arguments"]["day"] for part in parts) == [
        "2025-11-03",
        "2025-11-04",
        "2025-11-05",
    ]
    listed = client.get("/api/jobs", params={"kind": "rate_days"}, headers=headers).json()
    assert [item["id"] for item in listed] == [started["id"]]


def test_jobs_refusals_name_what_is_wrong(api: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = api
    missing = client.get(f"/api/jobs/{uuid.uuid4()}", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
    backwards = client.post(
        "/api/jobs/rating", json={"first": "2025-11-05", "last": "2025-11-01"}, headers=headers
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["field"] == "last"
    years = client.post(
        "/api/jobs/rating", json={"first": "2020-01-01", "last": "2025-11-01"}, headers=headers
    )
    assert years.status_code == 422 and "at most 366 days" in years.json()["error"]
    bad_month = client.post(
        "/api/jobs/invoice-drafts", json={"year": 2025, "month": 13}, headers=headers
    )
    assert bad_month.status_code == 422
