"""The accounts domain of the CRM: its spec for the generic operations
(``crm/service_base.py``), and its one rule of its own, that an account other records
still name stays."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from telecrm.accounts.models import Account
from telecrm.accounts.repository import AccountRepository
from telecrm.accounts.schemas import AccountDTO, AccountFields, AccountRead
from telecrm.crm.connector import CrmDomain
from telecrm.crm.links import AccountLinks
from telecrm.crm.service_base import CrmDomainSpec, CrmService
from telecrm.errors import AccountInUse


def check_deletable(session: Session, account: Account) -> None:
    keeping = AccountRepository(session).rows_keeping(account.account_id)
    if keeping:
        what = ", ".join(f"{n} {table.removesuffix('s')}(s)" for table, n in keeping.items())
        raise AccountInUse(
            f"account {account.account_id} has {what}: delete them or move them to another "
            "account first"
        )


def account_links(session: Session) -> AccountLinks:
    """How contacts and deals point at their account."""
    return AccountLinks(AccountRepository(session))


ACCOUNTS = CrmDomainSpec(
    domain=CrmDomain.ACCOUNTS,
    noun="account",
    model=Account,
    dto=AccountDTO,
    content=AccountFields,
    read_model=AccountRead,
    repository=AccountRepository,
    key_field="account_id",
    check_deletable=check_deletable,
)
# Seed 003's service object: AccountService(session, settings[, connector]).find_all()
AccountService = partial(CrmService, ACCOUNTS)
