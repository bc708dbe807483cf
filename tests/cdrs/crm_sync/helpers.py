"""CRM records that calls are associated with, and valid CDRs to push."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from telecrm.accounts.models import Account, Region
from telecrm.cdrs.models import Cdr
from telecrm.contacts.models import Contact, LeadSource
from telecrm.contracts.models import Contract
from tests import factories


def company(session: Session, crm_id: str) -> Account:
    account = Account(
        account_id=int(factories.unique("")),
        account_name=f"PT Company {crm_id}",
        industry="Telecom",
        account_value=Decimal("1000.00"),
        region=Region.ASIA,
        crm_id=crm_id,
    )
    session.add(account)
    session.flush()
    return account


def contact(session: Session, phone: str, crm_id: str) -> Contact:
    person = Contact(
        contact_id=factories.unique("C-"),
        first_name="Siti",
        last_name="Rahayu",
        email=f"{factories.unique('siti')}@example.co.id",
        phone=phone,
        lead_source=LeadSource.REFERRAL,
        crm_id=crm_id,
    )
    session.add(person)
    session.flush()
    return person


def valid_cdrs(
    session: Session, count: int, contract: Contract | None = None, **fields: Any
) -> list[Cdr]:
    start = dt.datetime(2025, 11, 5, 2, 0, tzinfo=dt.UTC)
    fields.setdefault("status", "valid")
    return [
        factories.cdr(session, contract, start_time=start + dt.timedelta(minutes=index), **fields)
        for index in range(count)
    ]


def dead_run() -> str:
    """A sync run of this machine that is no longer running, as a lease names it."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"
