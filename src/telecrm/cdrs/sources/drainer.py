"""The API server's own drain of pushed CDRs: a thread of each server process that,
every ``TELECRM_PUSH_DRAIN_SECONDS``, imports what /api/cdrs/push staged, in batches.
It is the job wrapper here: each batch is one unit of work of its own. Several
processes (or servers) drain side by side: each claims posts no other holds."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from telecrm.cdrs.sources import staging
from telecrm.config import Settings
from telecrm.db import session_scope

log = logging.getLogger(__name__)


class PushDrainer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="push-drainer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """After the batch in hand: it is committed, or its posts stay staged."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.settings.push_drain_seconds):
            try:
                # a read first: an idle server takes no write lock (SQLite) every round
                with session_scope(self.engine, write=False) as session:
                    if not staging.staged_posts(session):
                        continue
                counts = staging.drain_all(lambda: session_scope(self.engine), self.settings)
            except Exception:  # the posts stay staged; the next round tries again
                log.exception("push drain failed")
                continue
            if counts.posts:
                log.info(
                    "push drain: %d posts, %d calls: %d imported, %d duplicates, %d rejected",
                    counts.posts,
                    counts.calls,
                    counts.imported,
                    counts.duplicates,
                    counts.rejected,
                )
