"""``telecrm worker``: fetch -> validate -> rate -> sync, for every enabled source, at an
interval, in one process.

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
from telecrm.cdrs.rating_run import service as rating_run
from telecrm.cdrs.sources import service as cdr_sources
from telecrm.cdrs.sources import staging
from telecrm.config import Settings
from telecrm.db import get_engine, session_scope
from telecrm.errors import AppError
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
        self.connector_factory = connector_factory or (
            lambda: call_sync.LazyConnector.hubspot(settings)
        )
        self.stop = threading.Event()

    # --- one round of each loop ------------------------------------------------

    def pipeline_once(self) -> None:
        """Import what PBXes pushed, fetch every enabled source (each in its own
        transaction: one broken PBX does not stop the others), then rate what is new."""
        drained = staging.drain_all(lambda: session_scope(self.engine), self.settings)
        if drained.posts:
            log.info("worker: %d pushed posts imported", drained.posts)
        with session_scope(self.engine) as session:
            names = [source.name for source in cdr_sources.list_sources(session, enabled_only=True)]
        for name in names:
            if self.stop.is_set():
                return
            try:
                with session_scope(self.engine) as session:
                    cdr_sources.fetch_incremental(session, self.settings, name)
            except AppError as exc:
                log.error("worker: fetch from %s failed: %s", name, exc.message)
        if self.stop.is_set():
            return
        with session_scope(self.engine) as session:
            rated = rating_run.rate_new_cdrs(session, self.settings)
        log.info("worker: %d CDRs rated", rated)

    def sync_once(self) -> call_sync.SyncSummary:
        """Push due CDRs batch by batch, each batch committed on its own, until none is
        due, a rate limit says stop, or the worker is stopping."""
        if not self.crm_configured:
            return call_sync.SyncSummary()
        connector = self.connector_factory()
        try:
            summary = call_sync.sync_batch_by_batch(
                lambda: session_scope(self.engine),
                connector,
                self.settings,
                should_stop=self.stop.is_set,
            )
        finally:
            connector.close()
        if summary.batches:
            notify(call_sync.report(summary), self.settings)
        return summary

    # --- the process -------------------------------------------------------------

    def _loop(self, name: str, once: Callable[[], object]) -> None:
        while not self.stop.is_set():
            try:
                once()
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
            "worker started: every %.0f s, fetch -> validate -> rate -> sync%s",
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
