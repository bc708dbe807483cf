"""``telecrm worker`` without a broker: the schedule's jobs in process, at an interval
(``telecrm.jobs.schedule``: fetch -> validate -> rate, and the CRM sync), through the
same task functions a Celery worker runs, each recorded in the jobs table.

The call sync runs in a thread of its own: a slow or failing CRM (long Retry-After
waits, timeouts) delays only the calls' arrival in the CRM, never the next fetch or
rating. SIGTERM (systemd's stop) and SIGINT set a flag that both loops check between
batches: the batch in hand is finished and committed (or rolled back by its unit of
work if it fails), and the process exits 0."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from sqlalchemy import Engine

from telecrm.cdrs.crm_sync import service as call_sync
from telecrm.config import Settings
from telecrm.db import get_engine, session_scope
from telecrm.jobs import repository as jobs_repository
from telecrm.jobs.dispatch import Dispatcher
from telecrm.jobs.runner import JobStopped
from telecrm.jobs.schedule import PIPELINE, SYNC
from telecrm.jobs.service import sum_results
from telecrm.jobs.tasks import CALLS_CONNECTOR
from telecrm.notifications.report import RunReport
from telecrm.notifications.service import notify
from telecrm.retry import describe_error

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        connector_factory: Callable[[], call_sync.LazyConnector] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or get_engine(settings.database_url)
        # Without a CRM (no HubSpot token) telecrm is local only: no calls to push.
        self.crm_configured = connector_factory is not None or settings.hubspot_token is not None
        self.stop = threading.Event()
        services = {} if connector_factory is None else {CALLS_CONNECTOR: connector_factory}
        # in process, whatever TELECRM_BROKER_URL says: this is the loop without a broker
        self.dispatch = Dispatcher(
            settings.model_copy(update={"broker_url": None}),
            self.engine,
            should_stop=self.stop.is_set,
            services=services,
        )

    # --- one round of each loop ------------------------------------------------

    def pipeline_once(self) -> None:
        """Import what PBXes pushed, fetch every enabled source (each a job of its own:
        one broken PBX does not stop the others), validate, then rate the days that
        have new calls."""
        for kind in PIPELINE:
            if self.stop.is_set():
                return
            self.dispatch(kind, {}, trigger="worker")

    def sync_once(self) -> call_sync.SyncSummary:
        """Push due CDRs batch by batch, each batch committed on its own, until none is
        due, a rate limit says stop, or the worker is stopping."""
        if not self.crm_configured:
            return call_sync.SyncSummary()
        summary = call_sync.SyncSummary()
        for kind in SYNC:
            job_id = self.dispatch(kind, {}, trigger="worker")
            with session_scope(self.engine, write=False) as session:
                totals = sum_results(jobs_repository.part_results(session, job_id))
            summary.batches += totals.get("batches", 0)
            for name in ("selected", "synced", "failed", "requests"):
                setattr(summary, name, getattr(summary, name) + totals.get(name, 0))
        return summary

    # --- the process -------------------------------------------------------------

    def _loop(self, name: str, once: Callable[[], object]) -> None:
        while not self.stop.is_set():
            try:
                once()
            except JobStopped:
                break
            except Exception as exc:  # a loop that dies would stop the worker silently
                log.exception("worker: %s round failed", name)
                notify(
                    RunReport(kind=name, subject="(worker)", ok=False, error=describe_error(exc)),
                    self.settings,
                )
            self.stop.wait(self.settings.worker_interval_seconds)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("worker: %s received; finishing the batch in hand", signal.Signals(signum).name)
        self.stop.set()

    def run(self) -> None:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        sync_thread = threading.Thread(
            target=self._loop, args=("sync", self.sync_once), name="crm-sync"
        )
        log.info(
            "worker started in process (no broker): every %.0f s, fetch -> validate -> rate "
            "-> sync%s",
            self.settings.worker_interval_seconds,
            "" if self.crm_configured else " (no CRM configured: no calls are pushed)",
        )
        sync_thread.start()
        try:
            self._loop("pipeline", self.pipeline_once)
        finally:
            self.stop.set()
            sync_thread.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("worker stopped")
