"""A fake HubSpot on loopback for every CRM test that talks to the external CRM, and
the settings and API client that point at it."""

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
def crm_settings(settings: Settings, hubspot: FakeHubSpot) -> Settings:
    """The test settings with HubSpot at the fake, and retries that do not wait."""
    return settings.model_copy(
        update={
            "hubspot_token": SecretStr(hubspot.token),
            "hubspot_base_url": hubspot.url,
            "hubspot_max_attempts": 3,
            "hubspot_backoff_seconds": 0.0,
            "hubspot_retry_after_max_seconds": 0.0,
            "hubspot_read_timeout": 5.0,
        }
    )


@pytest.fixture()
def crm_app(app: FastAPI, crm_settings: Settings) -> FastAPI:
    """The test app, writing through to the fake HubSpot."""
    app.state.settings = crm_settings
    return app
