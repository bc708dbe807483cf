"""The external CRM of an API request: the configured connector, or None; and who
may read and change CRM data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends

from telecrm.auth.dependencies import require
from telecrm.auth.models import Role
from telecrm.auth.service import Principal
from telecrm.crm.connector import CrmConnector
from telecrm.crm.sync import connector_from_settings
from telecrm.dependencies import SettingsDep

# Sales (and admin) change CRM data; every other staff role may read it.
CrmReader = Annotated[Principal, Depends(require(Role.SALES, Role.VIEWER, Role.BILLING))]
CrmWriter = Annotated[Principal, Depends(require(Role.SALES))]


def crm_connector(settings: SettingsDep) -> Iterator[CrmConnector | None]:
    connector = connector_from_settings(settings)
    try:
        yield connector
    finally:
        if connector is not None:
            connector.close()


CrmConnectorDep = Annotated[CrmConnector | None, Depends(crm_connector)]
