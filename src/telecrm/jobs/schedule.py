"""The periodic schedule: the one list of what runs when. Celery beat sends these
(``telecrm beat``); without a broker ``telecrm worker`` runs the same jobs in process,
its interval ones every round. Another periodic job is one more entry of ``SCHEDULE``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab

from telecrm.config import Settings


@dataclass(frozen=True)
class Periodic:
    """A job sent by the schedule: every ``every(settings)`` seconds, or at a crontab
    (``cron(settings)``, in the billing time zone)."""

    name: str
    kind: str
    every: Callable[[Settings], float] | None = None
    cron: Callable[[Settings], crontab] | None = None
    arguments: tuple[tuple[str, Any], ...] = ()

    def when(self, settings: Settings) -> float | crontab:
        if self.cron is not None:
            return self.cron(settings)
        assert self.every is not None
        return float(self.every(settings))


def _interval(settings: Settings) -> float:
    return settings.worker_interval_seconds


SCHEDULE: list[Periodic] = [
    # the pipeline: import what was pushed (each server drains too), fetch every
    # enabled source, validate, rate new calls
    Periodic("import pushed CDRs", "drain_push", every=_interval),
    Periodic("fetch CDR sources", "fetch_sources", every=_interval),
    Periodic("validate new CDRs", "validate", every=_interval),
    Periodic("rate pending days", "rate_pending", every=_interval),
    # calls to the CRM, batch by batch, on workers side by side
    Periodic("sync calls to the CRM", "sync_calls", every=_interval),
    Periodic("extract the CRM", "crm_extract", every=lambda settings: 3600.0),
    # last month's draft invoices on the 1st, in the billing time zone (Celery's
    # timezone setting)
    Periodic(
        "draft last month's invoices",
        "invoice_drafts",
        cron=lambda settings: crontab(minute=0, hour=settings.invoice_drafts_hour, day_of_month=1),
    ),
    # PostgreSQL: partitions made three months ahead; months past retention archived
    Periodic(
        "make CDR partitions ahead",
        "ensure_partitions",
        cron=lambda settings: crontab(minute=10, hour=2),
    ),
    Periodic(
        "archive CDR months past retention",
        "apply_retention",
        cron=lambda settings: crontab(minute=40, hour=2),
    ),
    Periodic("forget old jobs", "prune_jobs", cron=lambda settings: crontab(minute=30, hour=3)),
]

# Without a broker, ``telecrm worker``'s rounds: these jobs in this order, and the CRM
# sync on a thread of its own (a slow CRM holds up no fetch or rating).
PIPELINE = ("drain_push", "fetch_sources", "validate", "rate_pending")
SYNC = ("sync_calls",)


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: each entry sends its task to telecrm's queue."""
    return {
        periodic.name: {
            "task": f"telecrm.{periodic.kind}",
            "schedule": periodic.when(settings),
            "kwargs": {"arguments": dict(periodic.arguments), "trigger": "beat"},
            "options": {"queue": settings.jobs_queue},
        }
        for periodic in SCHEDULE
    }
