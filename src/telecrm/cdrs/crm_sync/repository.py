"""Every query of the call sync."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from telecrm.accounts.models import Account
from telecrm.cdrs.crm_sync.models import CrmDailyUsage, SyncLog, SyncStatus
from telecrm.cdrs.lifecycle.models import CdrState
from telecrm.cdrs.models import Cdr
from telecrm.contacts.models import Contact
from telecrm.contracts.models import Contract
from telecrm.numbering import RewriteRules, rewrite_rules
from telecrm.rating.types import ACCOUNTCODE_BLANKS

# A CDR goes to the CRM once it passed validation; new and invalid ones wait.
# Every valid call (rated, unrated or invoiced ones are valid calls with a rating).
SYNCABLE_STATES = [CdrState.VALID]


def _due(now: dt.datetime, max_attempts: int) -> Any:
    """Pending, or failed with attempts left; either way not waiting (a backoff, or
    the lease of a batch out at the CRM)."""
    retry_left = and_(Cdr.sync_status == SyncStatus.FAILED.value, Cdr.sync_attempts < max_attempts)
    return and_(
        or_(Cdr.sync_status == SyncStatus.PENDING.value, retry_left),
        or_(Cdr.next_sync_at.is_(None), Cdr.next_sync_at <= now),
    )


def next_batch(
    session: Session,
    now: dt.datetime,
    max_attempts: int,
    after_id: int,
    size: int,
    cdr_ids: Sequence[int] | None = None,
) -> Sequence[Cdr]:
    """The next CDRs due for a push, in id order after ``after_id``; locked on
    PostgreSQL (skipping rows another worker holds) so two runs never push one CDR at
    the same moment."""
    query = (
        select(Cdr)
        .where(
            Cdr.status.in_([state.value for state in SYNCABLE_STATES]),
            _due(now, max_attempts),
            Cdr.id > after_id,
        )
        .order_by(Cdr.id)
        .limit(size)
        .with_for_update(skip_locked=True, of=Cdr)
        # the rows as they are now, not as a bulk update earlier in this session left
        # them in the identity map
        .execution_options(populate_existing=True)
    )
    if cdr_ids is not None:
        query = query.where(Cdr.id.in_(cdr_ids))
    return session.scalars(query).all()


def by_ids(session: Session, ids: Sequence[int]) -> Sequence[Cdr]:
    return session.scalars(
        select(Cdr)
        .where(Cdr.id.in_(ids))
        .order_by(Cdr.id)
        .execution_options(populate_existing=True)
    ).all()


def count_due(session: Session, now: dt.datetime, max_attempts: int) -> int:
    query = select(func.count()).where(
        Cdr.status.in_([state.value for state in SYNCABLE_STATES]), _due(now, max_attempts)
    )
    return int(session.scalar(query) or 0)


def contact_crm_ids(session: Session, phones: Iterable[str]) -> dict[str, str]:
    """E.164 phone -> the CRM id of a contact with that phone (the lowest id when
    several share one)."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    rows = session.execute(
        select(Contact.phone, Contact.crm_id)
        .where(Contact.phone.in_(wanted), Contact.crm_id.is_not(None))
        .order_by(Contact.id.desc())
    ).all()
    return {phone: crm_id for phone, crm_id in rows if phone and crm_id}


def contract_rewrite_rules(
    session: Session, accountcodes: Iterable[str]
) -> dict[str, RewriteRules]:
    """Account code (trimmed, as the rating matches it) -> the rewrite rules of its
    contract, for the contracts that have rules of their own."""
    wanted = sorted({code.strip(ACCOUNTCODE_BLANKS) for code in accountcodes} - {""})
    if not wanted:
        return {}
    rows = session.execute(
        select(Contract.accountcode, Contract.rewrite_rules).where(
            Contract.accountcode.in_(wanted), Contract.rewrite_rules.is_not(None)
        )
    ).all()
    return {code: rewrite_rules(rules) for code, rules in rows if rules is not None}


def company_crm_ids(session: Session, accountcodes: Iterable[str]) -> dict[str, str]:
    """Account code -> the CRM id of the company of that code's contract."""
    wanted = sorted(set(accountcodes))
    if not wanted:
        return {}
    rows = session.execute(
        select(Contract.accountcode, Account.crm_id)
        .join(Account, Account.account_id == Contract.account_id)
        .where(Contract.accountcode.in_(wanted), Account.crm_id.is_not(None))
    ).all()
    return {code: crm_id for code, crm_id in rows if crm_id}


def add_log(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    if entries:
        session.add_all(SyncLog(**entry) for entry in entries)


def logs(
    session: Session, cdr_id: int | None, status: str | None, limit: int, before_id: int | None
) -> Sequence[SyncLog]:
    query = select(SyncLog).order_by(SyncLog.log_id.desc()).limit(limit)
    if cdr_id is not None:
        query = query.where(SyncLog.cdr_id == cdr_id)
    if status is not None:
        query = query.where(SyncLog.status == status)
    if before_id is not None:
        query = query.where(SyncLog.log_id < before_id)
    return session.scalars(query).all()


# What a lease can be on: a CDR still to be pushed. Once a run records its batch the
# CDR is synced (or failed and free of the lease), and no release touches it.
_LEASABLE = (SyncStatus.PENDING.value, SyncStatus.FAILED.value)


def leases(session: Session) -> dict[str, int]:
    """Run (host:pid) -> how many CDRs it holds leased."""
    rows = session.execute(
        select(Cdr.sync_lease_owner, func.count())
        .where(Cdr.sync_lease_owner.is_not(None), Cdr.sync_status.in_(_LEASABLE))
        .group_by(Cdr.sync_lease_owner)
    ).all()
    return {owner: count for owner, count in rows if owner}


def release_leases(session: Session, owner: str) -> int:
    """The CDRs ``owner`` holds leased, due again now: one conditional write, so that
    a CDR the run recorded meanwhile (no lease any more) is left as it is."""
    query = (
        update(Cdr)
        .where(Cdr.sync_lease_owner == owner, Cdr.sync_status.in_(_LEASABLE))
        .values(next_sync_at=None, sync_lease_owner=None)
        .execution_options(synchronize_session=False)
    )
    return session.execute(query).rowcount or 0  # type: ignore[attr-defined]


def requeue_failed(session: Session, cdr_ids: Sequence[int] | None) -> int:
    """Failed CDRs back to pending, but not one a running sync holds leased: made due
    now, it would be pushed by another run while the first run's batch is out."""
    query = (
        update(Cdr)
        .where(Cdr.sync_status == SyncStatus.FAILED.value, Cdr.sync_lease_owner.is_(None))
        .values(sync_status=SyncStatus.PENDING.value, sync_attempts=0, next_sync_at=None)
        .execution_options(synchronize_session=False)
    )
    if cdr_ids is not None:
        query = query.where(Cdr.id.in_(cdr_ids))
    return session.execute(query).rowcount or 0  # type: ignore[attr-defined]


def requests_on(session: Session, day: dt.date) -> int:
    return int(session.scalar(select(CrmDailyUsage.requests).where(CrmDailyUsage.day == day)) or 0)


def add_requests(session: Session, day: dt.date, requests: int) -> None:
    """Add to the day's count in one statement, safe against a concurrent run."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CrmDailyUsage).values(day=day, requests=requests)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[CrmDailyUsage.day],
            set_={"requests": CrmDailyUsage.requests + statement.excluded.requests},
        )
    )


def sync_counts(session: Session, now: dt.datetime, max_attempts: int) -> dict[str, int]:
    """The CDRs that go to the CRM by sync state; of the failed ones, those out of
    attempts (they wait for a requeue); and those due now."""
    out_of_attempts = case((Cdr.sync_attempts >= max_attempts, 1), else_=0)
    query = (
        select(Cdr.sync_status, func.count(), func.coalesce(func.sum(out_of_attempts), 0))
        .where(Cdr.status.in_([state.value for state in SYNCABLE_STATES]))
        .group_by(Cdr.sync_status)
    )
    counts = {status.value: 0 for status in SyncStatus} | {"out_of_attempts": 0}
    for status, count, exhausted in session.execute(query):
        counts[status] = int(count)
        if status == SyncStatus.FAILED.value:
            counts["out_of_attempts"] = int(exhausted)
    counts["due"] = count_due(session, now, max_attempts)
    return counts
