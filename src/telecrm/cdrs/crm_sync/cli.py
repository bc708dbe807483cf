"""``telecrm cdr sync``, ``telecrm cdr sync-release`` and ``telecrm cdr sync-log``
(commands of the ``cdr`` group)."""

from __future__ import annotations

import typer

from telecrm.cdrs.crm_sync import service
from telecrm.config import get_settings
from telecrm.console import console, print_table, progress
from telecrm.db import session_scope
from telecrm.errors import AppError
from telecrm.notifications.service import notify


def sync(
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Re-queue the failed CDRs (attempts reset) first."
    ),
    cdr_id: list[int] = typer.Option([], "--cdr-id", help="Only these CDRs (repeatable)."),
    limit: int | None = typer.Option(None, min=1, help="At most this many CDRs."),
) -> None:
    """Push CDRs to the CRM as calls, in batches; each batch is committed on its own."""
    settings = get_settings()
    ids = cdr_id or None
    with session_scope() as session:
        requeued = service.requeue_failed(session, ids) if retry_failed else 0
        due = service.due_count(session, settings)
    if requeued:
        console.print(f"re-queued {requeued} failed CDRs")
    connector = service.LazyConnector.hubspot(settings)
    try:
        with progress() as bar:
            task = bar.add_task("pushing calls", total=min(due, limit) if limit else due)
            summary = service.sync_batch_by_batch(
                session_scope,
                connector,
                settings,
                ids,
                limit,
                on_batch=lambda outcome: bar.advance(task, outcome.selected),
            )
    finally:
        connector.close()
    if summary.batches:
        notify(service.report(summary), settings)
    print_table(
        "call sync",
        ["batches", "synced", "failed", "CRM requests"],
        [(summary.batches, summary.synced, summary.failed, summary.requests)],
    )
    for example in summary.examples:
        console.print(
            f"failed: CDR {example['cdr_id']} (try {example['attempt']}): {example['message']}",
            markup=False,
        )
    if summary.stop_reason:
        raise AppError(f"stopped: {summary.stop_reason}")


def sync_release(
    owner: list[str] = typer.Option(
        [],
        "--owner",
        help="A run of another machine (host:pid, as listed) known to be gone (repeatable).",
    ),
) -> None:
    """Release the CDRs leased by a sync that died, so that the next sync pushes them
    now rather than when the lease ends. A sync of this machine is released once its
    process is gone; one of another machine only when named with --owner."""
    with session_scope() as session:
        outcome = service.release_dead_leases(session, owner)
    for run, count in outcome.released.items():
        console.print(f"released {count} CDRs leased by {run} (no longer running)", markup=False)
    for run, count in outcome.running.items():
        console.print(f"kept {count} CDRs leased by {run}: it is still running", markup=False)
    for run, count in outcome.elsewhere.items():
        console.print(
            f"kept {count} CDRs leased by {run}, another machine: if it is gone, "
            f"release them with --owner {run}",
            markup=False,
        )
    console.print(f"released {outcome.total} CDRs in all", markup=False)


def sync_log(
    cdr_id: int | None = typer.Option(None, "--cdr-id"),
    status: str | None = typer.Option(None, help="synced, failed or deferred"),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """Seed 000's Sync_Log, newest first."""
    with session_scope() as session:
        entries = service.sync_log(session, cdr_id, status, limit)
        print_table(
            f"{len(entries)} sync log entries",
            ["log id", "cdr id", "status", "attempt", "time", "CRM call id", "message"],
            [
                (e.log_id, e.cdr_id, e.status, e.attempt, e.timestamp, e.crm_call_id, e.message)
                for e in entries
            ],
        )
