from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from telecrm.accounts.models import Account
from telecrm.crm.repository_base import CrmRepository, chunked
from telecrm.deals.models import Deal


class AccountRepository(CrmRepository[Account]):
    model = Account
    key_field = "account_id"

    def existing_account_ids(self, account_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for chunk in chunked(list(set(account_ids))):
            query = select(Account.account_id).where(Account.account_id.in_(chunk))
            found.update(self.session.scalars(query))
        return found

    def account_ids_by_crm_id(self) -> dict[str, int]:
        """Every account that is in the CRM: its CRM id -> account_id."""
        query = select(Account.crm_id, Account.account_id).where(Account.crm_id.is_not(None))
        return {str(crm_id): account_id for crm_id, account_id in self.session.execute(query)}

    def crm_ids_by_account_id(self, account_ids: Sequence[int]) -> dict[int, str | None]:
        found: dict[int, str | None] = {}
        for chunk in chunked(list(set(account_ids))):
            query = select(Account.account_id, Account.crm_id).where(Account.account_id.in_(chunk))
            found.update({account_id: crm_id for account_id, crm_id in self.session.execute(query)})
        return found

    def deal_count(self, account_id: int) -> int:
        query = select(func.count()).select_from(Deal).where(Deal.account_id == account_id)
        return int(self.session.scalar(query) or 0)
