from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from telecrm import textsearch
from telecrm.accounts.models import Account
from telecrm.contracts.models import Contract, ContractStatus
from telecrm.contracts.scope import ContractScope


def scope_clause(scope: ContractScope, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """The SQL condition that keeps rows of ``column`` (a contract id) within ``scope``."""
    if not scope.restricted:
        return true()
    if scope.contract_id is None:
        return false()
    return column == scope.contract_id


def get(session: Session, contract_id: int) -> Contract | None:
    return session.get(Contract, contract_id)


def get_by_accountcode(session: Session, accountcode: str) -> Contract | None:
    return session.scalars(
        select(Contract).where(Contract.accountcode == accountcode)
    ).one_or_none()


def by_accountcodes(session: Session, accountcodes: Collection[str]) -> dict[str, Contract]:
    contracts = session.scalars(select(Contract).where(Contract.accountcode.in_(accountcodes)))
    return {contract.accountcode: contract for contract in contracts}


def list_contracts(
    session: Session,
    scope: ContractScope,
    *,
    status: ContractStatus | None = None,
    rate_group_id: int | None = None,
    search: str | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Contract]:
    """Keyset-paginated by id."""
    query = select(Contract).where(scope_clause(scope, Contract.id)).order_by(Contract.id)
    if status is not None:
        query = query.where(Contract.status == status)
    if rate_group_id is not None:
        query = query.where(Contract.rate_group_id == rate_group_id)
    if search:
        query = query.where(
            textsearch.contains(Contract.company_name, search)
            | textsearch.contains(Contract.accountcode, search)
        )
    if after_id is not None:
        query = query.where(Contract.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def add(session: Session, contract: Contract) -> None:
    session.add(contract)
    session.flush()


def add_all(session: Session, contracts: Collection[Contract]) -> None:
    session.add_all(contracts)
    session.flush()


def delete(session: Session, contract: Contract) -> None:
    session.delete(contract)
    session.flush()


def counts_by_rate_group(session: Session, group_ids: Collection[int]) -> dict[int, int]:
    rows = session.execute(
        select(Contract.rate_group_id, func.count(Contract.id))
        .where(Contract.rate_group_id.in_(group_ids))
        .group_by(Contract.rate_group_id)
    )
    return {group_id: count for group_id, count in rows}


def by_ids(session: Session, contract_ids: Collection[int]) -> dict[int, Contract]:
    contracts = session.scalars(select(Contract).where(Contract.id.in_(contract_ids)))
    return {contract.id: contract for contract in contracts}


def existing_account_ids(session: Session, account_ids: Collection[int]) -> set[int]:
    return set(
        session.scalars(select(Account.account_id).where(Account.account_id.in_(account_ids)))
    )
