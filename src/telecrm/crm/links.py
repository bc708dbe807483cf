"""The link of a contact or a deal to its account. Here it is the record's
``account_id``; in the CRM it is an association to a company, not a property, so
it is read, compared and written apart from the record's other fields.

The CRM domains that have such a link are given an ``AccountLinks`` built on the
accounts' repository; the generic CRM code sees only the ``AccountLookup`` it
needs, never the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from telecrm.errors import ValidationFailed

ACCOUNT_FIELD = "account_id"


class AccountLookup(Protocol):
    def existing_account_ids(self, account_ids: Sequence[int]) -> set[int]: ...

    def account_ids_by_crm_id(self) -> dict[str, int]: ...

    def crm_ids_by_account_id(self, account_ids: Sequence[int]) -> dict[int, str | None]: ...


class AccountLinks:
    field = ACCOUNT_FIELD

    def __init__(self, accounts: AccountLookup) -> None:
        self.accounts = accounts

    @classmethod
    def account_of(cls, record: Any) -> int | None:
        account_id: int | None = getattr(record, cls.field, None)
        return account_id

    def check(self, account_id: int | None) -> None:
        """Refuse a link to an account that does not exist here."""
        if account_id is not None and not self.accounts.existing_account_ids([account_id]):
            raise ValidationFailed(
                f"no account with account_id {account_id}",
                detail=[{"field": self.field, "message": "no such account"}],
            )

    def existing(self, records: Iterable[Any]) -> set[int]:
        """Which of the records' accounts exist here."""
        linked = [self.account_of(record) for record in records]
        return self.accounts.existing_account_ids([i for i in linked if i is not None])

    def accounts_by_company(self) -> Mapping[str, int]:
        """The account of each CRM company that is one here: CRM id -> account_id."""
        return self.accounts.account_ids_by_crm_id()

    def companies(
        self, objs: Iterable[Any], previous: Mapping[str, int | None]
    ) -> dict[int, str | None]:
        """The CRM ids of the records' accounts, and of the accounts they had before."""
        account_ids = {self.account_of(obj) for obj in objs} | set(previous.values())
        return self.accounts.crm_ids_by_account_id([i for i in account_ids if i is not None])
