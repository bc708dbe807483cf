"""The external CRM of an API request: the configured connector, or None."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends

from telecrm.auth.dependencies import get_app_settings, require
from telecrm.auth.models import Role
from telecrm.config import Settings
from telecrm.crm.connector import CrmConnector
from telecrm.crm.sync import connector_from_settings

# Sales (and admin) change CRM data; every other staff role may read it.
crm_reader = require(Role.SALES, Role.VIEWER, Role.BILLING)
crm_writer = require(Role.SALES)


def crm_connector(settings: Settings = Depends(get_app_settings)) -> Iterator[CrmConnector | None]:
    connector = connector_from_settings(settings)
    try:
        yield connector
    finally:
        if connector is not None:
            connector.close()
