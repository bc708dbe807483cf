from __future__ import annotations

from telecrm.accounts.models import Account
from telecrm.accounts.repository import AccountRepository
from telecrm.accounts.schemas import AccountDTO, AccountFields, AccountRead
from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmService
from telecrm.errors import Conflict


class AccountService(CrmService[Account, AccountDTO]):
    domain = CrmDomain.ACCOUNTS
    noun = "account"
    model = Account
    dto = AccountDTO
    content = AccountFields
    read_model = AccountRead
    repository_class = AccountRepository
    key_field = "account_id"

    def _check_deletable(self, obj: Account) -> None:
        deals = self.accounts.deal_count(obj.account_id)
        if deals:
            raise Conflict(
                f"account {obj.account_id} has {deals} deal(s): delete them or move them "
                "to another account first"
            )
