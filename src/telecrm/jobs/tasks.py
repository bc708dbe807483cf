"""The body of every background job: plain functions of plain (JSON) arguments, each
opening its own units of work and calling the services. Celery runs them as tasks
(``telecrm.jobs.celery_app``); without a broker they run in process
(``telecrm.jobs.dispatch``). Each is safe to run twice: a rerun finds its work done
(ratings equal, calls synced, CDRs stored once, drafts generated again the same)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from telecrm.cdrs.crm_sync import service as call_sync
from telecrm.cdrs.lifecycle import service as lifecycle
from telecrm.cdrs.partitions import service as partitions
from telecrm.cdrs.rating_run import service as rating_run
from telecrm.cdrs.sources import service as cdr_sources
from telecrm.cdrs.sources import staging
from telecrm.cdrs.window import day_window
from telecrm.clock import billing_month
from telecrm.crm import sync as crm
from telecrm.crm.connector import CrmDomain
from telecrm.db import utcnow
from telecrm.errors import ValidationFailed
from telecrm.invoices import service as invoices
from telecrm.jobs import repository as jobs_repository
from telecrm.jobs.runner import Body, JobContext, Result
from telecrm.notifications.report import RunReport
from telecrm.notifications.service import notify
from telecrm.reports import service as reports
from telecrm.reports.models import AggregationKind

# The in-process loop (and tests) may give the call sync its CRM connector.
CALLS_CONNECTOR = "calls_connector"


# --- CDRs: pushed posts, fetch, validate --------------------------------------------


def drain_push(ctx: JobContext) -> Result:
    """Import the posts PBXes pushed (``POST /api/cdrs/push`` stages them), batch by
    batch, each batch one unit of work: what a server process's drainer does, for a
    deployment that turns it off (``TELECRM_PUSH_DRAIN_SECONDS=0``) or a server down."""
    drained = staging.drain_all(ctx.unit_of_work, ctx.settings)
    result = asdict(drained)
    with ctx.unit_of_work() as session:
        ctx.succeed(session, result)
    return result


def fetch_sources(ctx: JobContext) -> Result:
    """One fetch job per enabled source: one broken PBX does not hold up the others."""
    with ctx.unit_of_work() as session:
        names = [source.name for source in cdr_sources.list_sources(session, enabled_only=True)]
    ctx.fan_out("fetch_source", [{"source": name} for name in names], {"sources": len(names)})
    return {"sources": len(names)}


def fetch_source(ctx: JobContext, source: str) -> Result:
    """The source's new calls since its last fetch (a database from a little before the
    latest call it gave, a folder's new files), stored once each and validated."""
    with ctx.unit_of_work() as session:
        run = cdr_sources.fetch_incremental(session, ctx.settings, source)
        result = {
            "source": source,
            "files": run.files,
            "rows_read": run.rows_read,
            "imported": run.imported,
            "duplicates": run.duplicates,
            "rejected": run.rejected,
            "invalid": run.invalid,
        }
        ctx.succeed(session, result)
    return result


def validate(ctx: JobContext, source: str | None = None) -> Result:
    """Validate the new CDRs (those pushed since the last fetch, for instance)."""
    with ctx.unit_of_work() as session:
        summary = lifecycle.validate_cdrs(session, source, max_examples=0)
        result = {"valid": summary.valid, "invalid": summary.invalid, "flagged": summary.flagged}
        ctx.succeed(session, result)
    return result


# --- rating ------------------------------------------------------------------------


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def rate_day(
    ctx: JobContext, day: str, rerate: bool = False, shard: int = 0, shards: int = 1
) -> Result:
    """Rate one day of the billing time zone (or one shard of its calls), holding the day
    (a PostgreSQL advisory lock) until the ratings and the job's end are committed."""
    if not 0 <= shard < shards:
        raise ValidationFailed(f"shard {shard} is not between 0 and {shards - 1}")
    date = dt.date.fromisoformat(day)
    start, end = day_window(date, date, ctx.settings.timezone)
    with ctx.unit_of_work() as session:
        summary = rating_run.process_billing(
            session, start, end, rerate, ctx.settings, shard=(shard, shards)
        )
        result: Result = {
            "day": day,
            "processed": summary.processed,
            "changed": summary.changed,
            "rated": summary.rated,
            "unrated": sum(summary.unrated.values()),
            "invalid": summary.invalid,
        }
        if shards > 1:
            result["shard"] = f"{shard}/{shards}"
        ctx.succeed(session, result)
    return result


def rate_days(
    ctx: JobContext, first: str, last: str, rerate: bool = False, shards: int = 1
) -> Result:
    """Rate a range of days (``process-billing`` as a job): one ``rate_day`` job per day
    (and shard), spread over the workers."""
    first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    if last_day < first_day:
        raise ValidationFailed(f"the window ends ({last}) before it starts ({first})")
    parts = [
        {"day": day, "rerate": rerate, "shard": shard, "shards": shards}
        for day in _days(first_day, last_day)
        for shard in range(shards)
    ]
    result = {"first": first, "last": last, "days": len(parts) // shards, "shards": shards}
    ctx.fan_out("rate_day", parts, result)
    return result


def rate_pending(ctx: JobContext) -> Result:
    """Rate every day that holds calls not rated yet (the schedule's rating)."""
    with ctx.unit_of_work() as session:
        window = rating_run.pending_days(session, ctx.settings)
    if window is None:
        return {"days": 0}
    return rate_days(ctx, window[0].isoformat(), window[1].isoformat())


# --- calls to the CRM --------------------------------------------------------------


def _calls_connector(ctx: JobContext) -> call_sync.LazyConnector | None:
    factory = ctx.services.get(CALLS_CONNECTOR)
    if factory is not None:
        connector: call_sync.LazyConnector = factory()
        return connector
    if ctx.settings.hubspot_token is None:
        return None  # no CRM: telecrm is local only, no calls to push
    return call_sync.LazyConnector.hubspot(ctx.settings)


def sync_calls(ctx: JobContext) -> Result:
    """One ``sync_batch`` job per batch of the calls due: workers push batches side by
    side, each holding a lease on its own."""
    if ctx.settings.hubspot_token is None and CALLS_CONNECTOR not in ctx.services:
        return {"batches": 0, "skipped": "no CRM configured (TELECRM_HUBSPOT_TOKEN)"}
    with ctx.unit_of_work() as session:
        due = call_sync.due_count(session, ctx.settings)
    batches = math.ceil(due / ctx.settings.crm_call_sync_batch_size)
    ctx.fan_out("sync_batch", [{} for _ in range(batches)], {"due": due, "batches": batches})
    return {"due": due, "batches": batches}


def sync_batch(ctx: JobContext) -> Result:
    """Push one batch of due calls: claimed under a lease, pushed with no transaction
    open, recorded. The CRM upserts calls by their key, so a batch pushed again after a
    crash creates nothing twice; the leases of this machine's dead runs are released
    first, so their batch is pushed now, not when the lease runs out."""
    connector = _calls_connector(ctx)
    if connector is None:
        return {"batches": 0, "skipped": "no CRM configured (TELECRM_HUBSPOT_TOKEN)"}
    with ctx.unit_of_work() as session:
        released = call_sync.release_dead_leases(session).total
    try:
        summary = call_sync.sync_batch_by_batch(
            ctx.unit_of_work, connector, ctx.settings, limit=1, should_stop=ctx.should_stop
        )
    finally:
        connector.close()
    report = call_sync.report(summary)
    if summary.batches and report.needs_attention:
        send(ctx, report)
    result = {key: value for key, value in asdict(summary).items() if key != "examples"}
    return result | {"released_leases": released}


# --- the CRM, invoices, reports ----------------------------------------------------


def crm_extract(ctx: JobContext, output_dir: str | None = None) -> Result:
    """Pull the CRM (accounts, contacts, deals), clean it, save what changed, export it
    to ``output_dir`` and recompute the deal aggregations."""
    connector = crm.connector_from_settings(ctx.settings)
    if connector is None:
        return {"skipped": "no CRM configured (TELECRM_HUBSPOT_TOKEN)"}
    folder = Path(output_dir) if output_dir else ctx.settings.crm_extract_dir
    result: Result = {}
    with connector:
        for done, domain in enumerate(CrmDomain):
            with ctx.unit_of_work() as session:
                extracted = crm.extract(session, ctx.settings, connector, domain, folder)
                if domain is CrmDomain.DEALS:
                    reports.compute(session, list(AggregationKind))
            result[domain.value] = {
                "fetched": extracted.fetched,
                "new": extracted.report.new,
                "changed": extracted.report.changed,
                "rejected": len(extracted.report.rejected),
            }
            ctx.progress(done + 1, len(CrmDomain))
    return result


def invoice_drafts(ctx: JobContext, year: int | None = None, month: int | None = None) -> Result:
    """The month's draft invoices; by default last month's (in the billing time zone),
    as the schedule runs it on the 1st."""
    if year is None or month is None:
        today = dt.datetime.now(ctx.settings.tz).date()
        last_month = today.replace(day=1) - dt.timedelta(days=1)
        year, month = last_month.year, last_month.month
    billing_month(year, month, ctx.settings.tz)  # a bad month is refused before any work
    with ctx.unit_of_work() as session:
        summary = invoices.generate(session, year, month, ctx.settings)
        result = summary.model_dump(mode="json")
        ctx.succeed(session, result)
    return result


def send_report(ctx: JobContext, report: dict[str, Any]) -> Result:
    """Send a run report to the configured channels (webhook, e-mail) and the log."""
    delivered = notify(
        RunReport(
            kind=report["kind"],
            subject=report["subject"],
            ok=report["ok"],
            counts=report.get("counts", {}),
            examples=report.get("examples", []),
            error=report.get("error"),
        ),
        ctx.settings,
    )
    return {"delivered": delivered}


def send(ctx: JobContext, report: RunReport) -> None:
    """Send ``report`` as a job of its own: a slow mail server holds up no work."""
    payload = {
        "kind": report.kind,
        "subject": report.subject,
        "ok": report.ok,
        "counts": report.counts,
        "examples": report.examples,
        "error": report.error,
    }
    ctx.dispatch("send_report", {"report": payload}, trigger=f"job {ctx.job_id}", parent_id=None)


def ensure_partitions(ctx: JobContext, months_ahead: int = 3) -> Result:
    """PostgreSQL: this month's partitions and ``months_ahead`` more (idempotent)."""
    with ctx.unit_of_work() as session:
        made = partitions.ensure_partitions(session, months_ahead, ctx.settings)
        result = {"supported": made.supported, "created": made.created, "moved": made.moved_rows}
        ctx.succeed(session, result)
    return result


def apply_retention(ctx: JobContext) -> Result:
    """PostgreSQL, with ``TELECRM_CDR_RETENTION_MONTHS``: archive the months past
    retention to Parquet and drop them (a month an unpaid invoice holds is kept)."""
    with ctx.unit_of_work() as session:
        done = partitions.apply_retention(session, ctx.settings)
        result = {
            "supported": done.supported,
            "enabled": done.enabled,
            "months": {month.month: month.outcome for month in done.months},
        }
        ctx.succeed(session, result)
    return result


def prune_jobs(ctx: JobContext) -> Result:
    """Forget the jobs that ended more than ``TELECRM_JOBS_KEEP_DAYS`` ago."""
    cutoff = utcnow() - dt.timedelta(days=ctx.settings.jobs_keep_days)
    with ctx.unit_of_work() as session:
        result = {"deleted": jobs_repository.delete_finished_before(session, cutoff)}
        ctx.succeed(session, result)
    return result


# Every job by kind: its Celery task is ``telecrm.<kind>``.
TASKS: dict[str, Body] = {
    "drain_push": drain_push,
    "fetch_sources": fetch_sources,
    "fetch_source": fetch_source,
    "validate": validate,
    "rate_day": rate_day,
    "rate_days": rate_days,
    "rate_pending": rate_pending,
    "sync_calls": sync_calls,
    "sync_batch": sync_batch,
    "crm_extract": crm_extract,
    "invoice_drafts": invoice_drafts,
    "send_report": send_report,
    "ensure_partitions": ensure_partitions,
    "apply_retention": apply_retention,
    "prune_jobs": prune_jobs,
}
