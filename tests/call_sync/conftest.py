"""The CRM engineer's fake HubSpot (tests/crm/fake_hubspot.py) serves the calls object
as it serves any other: upsert by a unique property, associations, faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from telecrm.config import Settings
from tests.crm.fake_hubspot import FakeHubSpot


@pytest.fixture()
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as server:
        yield server


@pytest.fixture()
def sync_settings(settings: Settings, hubspot: FakeHubSpot) -> Settings:
    """HubSpot at the fake; retries and backoffs that do not wait."""
    return settings.model_copy(
        update={
            "hubspot_token": SecretStr(hubspot.token),
            "hubspot_base_url": hubspot.url,
            "hubspot_max_attempts": 3,
            "hubspot_backoff_seconds": 0.0,
            "hubspot_retry_after_max_seconds": 0.0,
            "hubspot_read_timeout": 5.0,
            "crm_call_sync_backoff_seconds": 60.0,
            "crm_call_sync_max_attempts": 3,
        }
    )


@pytest.fixture()
def sync_app(app: FastAPI, sync_settings: Settings) -> FastAPI:
    app.state.settings = sync_settings
    return app
