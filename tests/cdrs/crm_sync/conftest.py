"""The call sync against the fake HubSpot (the ``hubspot`` and ``crm_settings``
fixtures are in tests/conftest.py), which serves the calls object as it serves any
other: upsert by a unique property, associations, faults."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from telecrm.config import Settings


@pytest.fixture()
def sync_settings(crm_settings: Settings) -> Settings:
    """HubSpot at the fake; the sync's own backoff long enough to see, and few attempts."""
    return crm_settings.model_copy(
        update={"crm_call_sync_backoff_seconds": 60.0, "crm_call_sync_max_attempts": 3}
    )


@pytest.fixture()
def sync_app(app: FastAPI, sync_settings: Settings) -> FastAPI:
    app.state.settings = sync_settings
    return app
