from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.sql.schema import ForeignKey

from telecrm.accounts.models import Account
from telecrm.crm.repository_base import CrmRepository, chunked


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

    def rows_keeping(self, account_id: int) -> dict[str, int]:
        """Per table, the rows that refer to the account by a foreign key that forbids
        its delete (ON DELETE RESTRICT: deals). Found from the tables' own foreign
        keys, so that accounts need not know the domains that point at them."""
        key = Account.__table__.c.account_id
        counts: dict[str, int] = {}
        for table in Account.metadata.sorted_tables:
            for foreign_key in table.foreign_keys:
                if foreign_key.column is key and _restricts(foreign_key):
                    query = (
                        select(func.count())
                        .select_from(table)
                        .where(foreign_key.parent == account_id)
                    )
                    counts[table.name] = int(self.session.scalar(query) or 0)
        return {name: count for name, count in counts.items() if count}


def _restricts(foreign_key: ForeignKey) -> bool:
    return (foreign_key.ondelete or "NO ACTION").upper() in ("RESTRICT", "NO ACTION")
