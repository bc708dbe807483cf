from __future__ import annotations

from telecrm.accounts.models import Account
from telecrm.accounts.repository import AccountRepository
from telecrm.accounts.schemas import AccountDTO, AccountFields, AccountRead
from telecrm.crm.connector import CrmDomain
from telecrm.crm.service_base import CrmService
from telecrm.errors import AccountInUse


class AccountService(CrmService[Account, AccountDTO]):
    domain = CrmDomain.ACCOUNTS
    noun = "account"
    model = Account
    dto = AccountDTO
    content = AccountFields
    read_model = AccountRead
    repository_class = AccountRepository
    key_field = "account_id"

    repository: AccountRepository

    def _check_deletable(self, obj: Account) -> None:
        keeping = self.repository.rows_keeping(obj.account_id)
        if keeping:
            what = ", ".join(f"{n} {table.removesuffix('s')}(s)" for table, n in keeping.items())
            raise AccountInUse(
                f"account {obj.account_id} has {what}: delete them or move them to another "
                "account first"
            )
