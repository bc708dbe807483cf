"""The API client of the CRM tests, writing through to the fake HubSpot (the ``hubspot``
and ``crm_settings`` fixtures are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from telecrm.config import Settings


@pytest.fixture()
def crm_app(app: FastAPI, crm_settings: Settings) -> FastAPI:
    """The test app, writing through to the fake HubSpot."""
    app.state.settings = crm_settings
    return app
