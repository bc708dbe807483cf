"""Contracts: the customer companies, tied to their calls and invoices by accountcode."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.contracts import repository, usage
from telecrm.contracts.models import Contract, ContractStatus
from telecrm.contracts.schemas import ContractCreate, ContractUpdate
from telecrm.contracts.scope import ContractScope
from telecrm.csvimport import ImportSummary, Keyed, RowError, read_rows, upsert
from telecrm.errors import (
    AccountcodeInUse,
    AccountcodeTaken,
    ContractInUse,
    ContractNotFound,
    ValidationFailed,
)
from telecrm.rates import repository as rates_repository

# Seed 004's columns, then the ones telecrm adds.
CSV_REQUIRED = ("company_name", "accountcode", "rate_group_id")
CSV_OPTIONAL = (
    "contact_person",
    "email",
    "phone",
    "address",
    "status",
    "currency",
    "tax_rate",
    "payment_terms_days",
    "account_id",
)
NOT_NULL_FIELDS = frozenset(
    {"company_name", "accountcode", "status", "rate_group_id", "currency", "tax_rate"}
    | {"payment_terms_days"}
)


def get_contract(session: Session, scope: ContractScope, contract_id: int) -> Contract:
    """404 for a contract the caller may not see, so that ids do not leak."""
    contract = repository.get(session, contract_id)
    if contract is None or not scope.allows(contract.id):
        raise ContractNotFound(f"contract {contract_id} not found")
    return contract


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
    return repository.list_contracts(
        session,
        scope,
        status=status,
        rate_group_id=rate_group_id,
        search=search,
        after_id=after_id,
        limit=limit,
    )


def _check_rate_group(session: Session, rate_group_id: int) -> None:
    if rates_repository.get_group(session, rate_group_id) is None:
        raise ValidationFailed(f"rate_group_id {rate_group_id}: no such rate group")


def _check_account(session: Session, account_id: int | None) -> None:
    if account_id is not None and not repository.existing_account_ids(session, [account_id]):
        raise ValidationFailed(f"account_id {account_id}: no such CRM account")


def _check_accountcode_free(session: Session, accountcode: str) -> None:
    holder = repository.get_by_accountcode(session, accountcode)
    if holder is not None:
        raise AccountcodeTaken(f"accountcode {accountcode} is already contract {holder.id}'s")


def create_contract(session: Session, data: ContractCreate) -> Contract:
    _check_rate_group(session, data.rate_group_id)
    _check_account(session, data.account_id)
    _check_accountcode_free(session, data.accountcode)
    contract = Contract(**data.model_dump())
    repository.add(session, contract)
    cache.invalidate_on_commit(session, cache.CONTRACTS)
    return contract


def update_contract(session: Session, contract_id: int, data: ContractUpdate) -> Contract:
    contract = get_contract(session, ContractScope(), contract_id)
    changes = data.model_dump(exclude_unset=True)
    if empty := sorted(
        field for field in NOT_NULL_FIELDS if field in changes and changes[field] is None
    ):
        raise ValidationFailed(f"{', '.join(empty)}: may not be empty")
    changes = {
        field: value for field, value in changes.items() if getattr(contract, field) != value
    }
    if "rate_group_id" in changes:
        _check_rate_group(session, changes["rate_group_id"])
    if "account_id" in changes:
        _check_account(session, changes["account_id"])
    if "accountcode" in changes:
        _check_accountcode_free(session, changes["accountcode"])
        # Calls and invoices carry the accountcode they were made under.
        if usage.has_calls.ask(session, contract.id) or usage.invoice_count.ask(
            session, contract.id
        ):
            raise AccountcodeInUse(
                f"contract {contract.id} has calls or invoices under accountcode "
                f"{contract.accountcode}, which therefore cannot change"
            )
    for field, value in changes.items():
        setattr(contract, field, value)
    session.flush()
    cache.invalidate_on_commit(session, cache.CONTRACTS)
    return contract


def delete_contract(session: Session, contract_id: int) -> None:
    contract = get_contract(session, ContractScope(), contract_id)
    invoices = usage.invoice_count.ask(session, contract.id)
    if invoices:
        raise ContractInUse(
            f"contract {contract.id} has {invoices} invoices and must stay; "
            "set its status to terminated instead"
        )
    repository.delete(session, contract)
    cache.invalidate_on_commit(session, cache.CONTRACTS)


def import_contracts(session: Session, stream: TextIO, name: str) -> ImportSummary:
    """Rows with a known accountcode update that contract (only the cells that have
    a value); the others create a contract. All rows or none."""
    rows, errors = read_rows(stream, ContractCreate, CSV_REQUIRED, CSV_OPTIONAL, name)
    groups = rates_repository.groups_by_id(session, {row.record.rate_group_id for row in rows})
    accounts = repository.existing_account_ids(
        session, {row.record.account_id for row in rows if row.record.account_id is not None}
    )
    incoming: dict[str, Keyed] = {}
    for row in rows:
        code = row.record.accountcode
        if code in incoming:
            errors.append(
                RowError(row.line, f"accountcode {code} is also on line {incoming[code].line}")
            )
            continue
        incoming[code] = Keyed(row.line, row.record.model_dump(), row.fields)
        if row.record.rate_group_id not in groups:
            errors.append(
                RowError(row.line, f"rate_group_id {row.record.rate_group_id}: no such rate group")
            )
        account_id = row.record.account_id
        if account_id is not None and account_id not in accounts:
            errors.append(RowError(row.line, f"account_id {account_id}: no such CRM account"))
    cache.invalidate_on_commit(session, cache.CONTRACTS)
    return upsert(
        session,
        name,
        "contracts",
        incoming,
        repository.by_accountcodes(session, incoming),
        lambda created: repository.add_all(session, [Contract(**values) for values in created]),
        errors,
    )
