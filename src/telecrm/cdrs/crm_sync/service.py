"""Pushing CDRs to the CRM as calls, a batch at a time.

Exactly once: every call is upserted by the CDR's unique key, which the CRM keeps in a
unique property. If the process dies after the CRM took a batch and before the local
commit, the CDRs are still pending here; the next run pushes them again and the CRM
updates the calls it already has instead of creating new ones.

A failed CDR is tried again on later runs after a backoff that doubles each time, up
to ``crm_call_sync_max_attempts``; then it stays failed, with its last message, until
it is re-queued. A rate limit (429 after the client's retries, or the daily limit)
ends the run without counting against any CDR."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from telecrm.audit.service import record
from telecrm.cdrs.crm_sync import repository
from telecrm.cdrs.crm_sync.calls import build_calls
from telecrm.cdrs.crm_sync.hubspot_calls import (
    MAX_REQUESTS_PER_BATCH,
    CallWriteResult,
    HubSpotCalls,
    OutgoingCall,
)
from telecrm.cdrs.crm_sync.models import SyncLog, SyncStatus
from telecrm.cdrs.crm_sync.schemas import SyncCounts, SyncResult
from telecrm.cdrs.models import Cdr
from telecrm.config import Settings
from telecrm.db import utcnow
from telecrm.errors import CrmRateLimited, ExternalServiceError
from telecrm.notifications.report import RunReport
from telecrm.notifications.service import notify
from telecrm.retry import RetryPolicy


class CallsConnector(Protocol):
    def upsert(self, calls: Sequence[OutgoingCall]) -> CallWriteResult: ...


class LazyConnector:
    """Connects to the CRM on the first batch only: a run with nothing to push works
    (and answers) without a CRM configured or reachable."""

    def __init__(self, factory: Callable[[], HubSpotCalls]) -> None:
        self._factory = factory
        self._connector: HubSpotCalls | None = None

    @classmethod
    def hubspot(cls, settings: Settings, **client_options: Any) -> LazyConnector:
        return cls(lambda: HubSpotCalls.from_settings(settings, **client_options))

    def upsert(self, calls: Sequence[OutgoingCall]) -> CallWriteResult:
        if self._connector is None:
            self._connector = self._factory()
        return self._connector.upsert(calls)

    def close(self) -> None:
        if self._connector is not None:
            self._connector.close()


@dataclass
class BatchOutcome:
    selected: int = 0
    synced: int = 0
    failed: int = 0
    requests: int = 0
    last_id: int = 0
    # why the run must stop here (rate limit, daily limit); None: go on
    stop_reason: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SyncSummary:
    batches: int = 0
    selected: int = 0
    synced: int = 0
    failed: int = 0
    requests: int = 0
    stop_reason: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: BatchOutcome, max_examples: int) -> None:
        self.batches += 1
        self.selected += outcome.selected
        self.synced += outcome.synced
        self.failed += outcome.failed
        self.requests += outcome.requests
        self.stop_reason = outcome.stop_reason
        self.examples += outcome.examples[: max(0, max_examples - len(self.examples))]


# --- pushing -----------------------------------------------------------------------


def _day(settings: Settings, now: dt.datetime) -> dt.date:
    return now.astimezone(settings.tz).date()


def lease_owner() -> str:
    """This run, as a lease names it: its host and process. While a batch is out at
    the CRM its CDRs are leased, for ``crm_call_sync_lease_minutes``: other runs skip
    them until the lease ends, or until ``release_dead_leases`` releases the leases of
    a run that no longer runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Claim:
    """A batch taken for a push: its CDRs (leased), and their calls."""

    cdr_ids: list[int]
    calls: list[OutgoingCall]
    last_id: int


def claim_batch(
    session: Session,
    settings: Settings,
    after_id: int = 0,
    cdr_ids: Sequence[int] | None = None,
    now: dt.datetime | None = None,
    owner: str | None = None,
) -> Claim | BatchOutcome | None:
    """The next due CDRs, leased to ``owner`` (this run by default), with their calls;
    a ``BatchOutcome`` that says stop when the daily request budget is spent; None
    when nothing is due."""
    now = now or utcnow()
    day = _day(settings, now)
    max_attempts = settings.crm_call_sync_max_attempts
    used = repository.requests_on(session, day)
    if used + MAX_REQUESTS_PER_BATCH > settings.crm_daily_request_limit:
        if not repository.next_batch(session, now, max_attempts, after_id, 1, cdr_ids):
            return None
        return BatchOutcome(
            stop_reason=f"the daily limit of {settings.crm_daily_request_limit} CRM requests "
            f"is reached ({used} used on {day.isoformat()}); the rest waits for tomorrow"
        )
    cdrs = repository.next_batch(
        session, now, max_attempts, after_id, settings.crm_call_sync_batch_size, cdr_ids
    )
    if not cdrs:
        return None
    calls = build_calls(session, cdrs, settings)
    lease_end = now + dt.timedelta(minutes=settings.crm_call_sync_lease_minutes)
    holder = owner or lease_owner()
    for cdr in cdrs:
        cdr.next_sync_at = lease_end
        cdr.sync_lease_owner = holder
    session.flush()
    return Claim([cdr.id for cdr in cdrs], calls, cdrs[-1].id)


def push(connector: CallsConnector, claim: Claim) -> CallWriteResult | CrmRateLimited:
    """The CRM request itself: outside any transaction when the caller can manage it,
    so that a slow CRM holds no lock the import or the rating needs."""
    try:
        return connector.upsert(claim.calls)
    except CrmRateLimited as exc:
        return exc
    except ExternalServiceError as exc:
        return CallWriteResult(failed={call.key: exc.message for call in claim.calls}, requests=1)


def record_batch(
    session: Session,
    settings: Settings,
    claim: Claim,
    result: CallWriteResult | CrmRateLimited,
    now: dt.datetime | None = None,
) -> BatchOutcome:
    """Write what the CRM did with a claimed batch: each CDR's sync state and one
    Sync_Log row per CDR; the caller commits."""
    now = now or utcnow()
    cdrs = repository.by_ids(session, claim.cdr_ids)
    outcome = BatchOutcome(selected=len(cdrs), last_id=claim.last_id)
    if isinstance(result, CrmRateLimited):
        repository.add_requests(session, _day(settings, now), 1)
        for cdr in cdrs:
            cdr.next_sync_at = None  # due again on the next run, no attempt used
            cdr.sync_lease_owner = None
        _log_all(session, cdrs, "deferred", result.message, now)
        outcome.stop_reason = f"the CRM's rate limit: {result.message}"
        outcome.selected = 0
        return outcome
    repository.add_requests(session, _day(settings, now), result.requests)
    outcome.requests = result.requests
    policy = RetryPolicy(
        max_attempts=settings.crm_call_sync_max_attempts,
        backoff_seconds=settings.crm_call_sync_backoff_seconds,
        backoff_max_seconds=settings.crm_call_sync_backoff_max_seconds,
    )
    entries: list[dict[str, Any]] = []
    for cdr in cdrs:
        cdr.sync_attempts += 1
        cdr.sync_lease_owner = None
        crm_id = result.written.get(cdr.unique_key)
        if crm_id is not None:
            cdr.sync_status = SyncStatus.SYNCED.value
            cdr.crm_call_id = crm_id
            cdr.synced_at = now
            cdr.sync_message = None
            cdr.next_sync_at = None
            outcome.synced += 1
            entries.append(_entry(cdr, "synced", None, now))
            continue
        message = result.failed.get(cdr.unique_key, "the CRM did not answer for this call")
        cdr.sync_status = SyncStatus.FAILED.value
        cdr.sync_message = message
        exhausted = cdr.sync_attempts >= settings.crm_call_sync_max_attempts
        cdr.next_sync_at = (
            None if exhausted else now + dt.timedelta(seconds=policy.delay(cdr.sync_attempts))
        )
        outcome.failed += 1
        entries.append(_entry(cdr, "failed", message, now))
        outcome.examples.append(
            {
                "cdr_id": cdr.id,
                "call_id": cdr.call_id,
                "attempt": cdr.sync_attempts,
                "message": message,
            }
        )
    repository.add_log(session, entries)
    session.flush()
    return outcome


def sync_batch(
    session: Session,
    connector: CallsConnector,
    settings: Settings,
    after_id: int = 0,
    cdr_ids: Sequence[int] | None = None,
) -> BatchOutcome | None:
    """Claim, push and record one batch in one session (the API's request)."""
    claim = claim_batch(session, settings, after_id, cdr_ids)
    if not isinstance(claim, Claim):
        return claim
    return record_batch(session, settings, claim, push(connector, claim))


def _entry(cdr: Cdr, status: str, message: str | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "cdr_id": cdr.id,
        "status": status,
        "timestamp": now,
        "message": message,
        "attempt": cdr.sync_attempts,
        "crm_call_id": cdr.crm_call_id,
    }


def _log_all(
    session: Session, cdrs: Sequence[Cdr], status: str, message: str, now: dt.datetime
) -> None:
    repository.add_log(session, [_entry(cdr, status, message, now) for cdr in cdrs])
    session.flush()


def sync_calls(
    session: Session,
    connector: CallsConnector,
    settings: Settings,
    cdr_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> SyncSummary:
    """Push every due CDR (or the given ones), batch after batch, in this session:
    for the API, where the request owns the transaction. The CLI and the worker commit
    batch by batch with ``sync_batch`` instead."""
    summary = SyncSummary()
    after_id = 0
    while limit is None or summary.selected < limit:
        outcome = sync_batch(session, connector, settings, after_id, cdr_ids)
        if outcome is None:
            break
        summary.add(outcome, settings.notify_examples)
        after_id = outcome.last_id
        if outcome.stop_reason:
            break
    if summary.batches:
        record(
            session,
            "sync",
            "cdrs",
            None,
            {"synced": summary.synced, "failed": summary.failed, "stopped": summary.stop_reason},
        )
    return summary


def sync_batch_by_batch(
    unit_of_work: Callable[[], AbstractContextManager[Session]],
    connector: CallsConnector,
    settings: Settings,
    cdr_ids: Sequence[int] | None = None,
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[BatchOutcome], None] = lambda _outcome: None,
) -> SyncSummary:
    """For the CLI and the worker: each batch claimed in one unit of work (the caller's
    ``session_scope``), pushed with no transaction open, and recorded in another. A
    crash or a stop loses at most the batch in hand, whose lease then runs out and
    which the next run pushes again, without duplicates."""
    summary = SyncSummary()
    after_id = 0
    while not should_stop() and (limit is None or summary.selected < limit):
        with unit_of_work() as session:
            claim = claim_batch(session, settings, after_id, cdr_ids)
        if isinstance(claim, Claim):
            result = push(connector, claim)
            with unit_of_work() as session:
                outcome: BatchOutcome | None = record_batch(session, settings, claim, result)
        else:
            outcome = claim
        if outcome is None:
            break
        summary.add(outcome, settings.notify_examples)
        on_batch(outcome)
        after_id = outcome.last_id
        if outcome.stop_reason:
            break
    return summary


def sync_request(
    session: Session,
    connector: CallsConnector,
    settings: Settings,
    cdr_ids: Sequence[int] | None,
    limit: int | None,
    retry_failed: bool,
) -> SyncResult:
    requeued = requeue_failed(session, cdr_ids) if retry_failed else 0
    summary = sync_calls(session, connector, settings, cdr_ids, limit)
    if summary.batches:
        notify(report(summary), settings)
    return SyncResult(requeued=requeued, **asdict(summary))


def report(summary: SyncSummary) -> RunReport:
    """The run's report: a failure when a batch failed or a limit stopped the run."""
    return RunReport(
        kind="sync",
        subject="of calls to the CRM",
        ok=summary.stop_reason is None,
        counts={
            "selected": summary.selected,
            "synced": summary.synced,
            "failed": summary.failed,
            "requests": summary.requests,
        },
        examples=summary.examples,
        error=summary.stop_reason,
    )


def requeue_failed(session: Session, cdr_ids: Sequence[int] | None = None) -> int:
    """Failed CDRs back to pending with their attempts reset: tried on the next run;
    one a running sync holds leased is left to that run."""
    count = repository.requeue_failed(session, cdr_ids)
    if count:
        record(session, "requeue", "cdrs", None, {"cdr_ids": list(cdr_ids or []), "count": count})
    return count


@dataclass
class LeaseRelease:
    """What ``release_dead_leases`` did: CDRs released per run that no longer runs,
    and the leases it kept (run -> CDRs), with why."""

    released: dict[str, int] = field(default_factory=dict)
    running: dict[str, int] = field(default_factory=dict)
    elsewhere: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.released.values())


def _runs_here(owner: str, host: str) -> bool | None:
    """Whether the run ``host:pid`` still runs: None when it is on another machine,
    where this one cannot tell."""
    owner_host, _, pid = owner.rpartition(":")
    if owner_host != host or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def release_dead_leases(session: Session, dead: Sequence[str] = ()) -> LeaseRelease:
    """Release the leases of the runs that died, so that their batches are pushed on
    the next run instead of after the lease: those of this machine's runs whose
    process is gone, and those of the runs named in ``dead`` (``host:pid``, for
    another machine's, which only a person can know to be gone). A run of this
    machine that still runs keeps its leases even when named: releasing them would
    push its batch twice."""
    host = socket.gethostname()
    outcome = LeaseRelease()
    for owner, count in sorted(repository.leases(session).items()):
        running = _runs_here(owner, host)
        if running:
            outcome.running[owner] = count
        elif running is None and owner not in dead:
            outcome.elsewhere[owner] = count
        else:
            released = repository.release_leases(session, owner)
            if released:
                outcome.released[owner] = released
    if outcome.total:
        record(session, "release_leases", "cdrs", None, {"released": outcome.released})
    return outcome


def sync_log(
    session: Session,
    cdr_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[SyncLog]:
    return repository.logs(session, cdr_id, status, limit, before_id)


def due_count(session: Session, settings: Settings) -> int:
    return repository.count_due(session, utcnow(), settings.crm_call_sync_max_attempts)


def sync_counts(session: Session, settings: Settings) -> SyncCounts:
    """Valid CDRs by sync state; of the failed, those out of attempts; those due now."""
    counts = repository.sync_counts(session, utcnow(), settings.crm_call_sync_max_attempts)
    return SyncCounts.model_validate(counts)
