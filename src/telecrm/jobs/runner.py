"""How any job runs, wherever it was dispatched: its row taken from queued to running
(a conditional write, so a redelivered message whose job finished does nothing), its
body called with a ``JobContext``, and the row finished: succeeded in the same unit of
work as the body's last write where the body says so (``JobContext.succeed``), or
failed with the error. A job whose work is split into parts (``JobContext.fan_out``)
stays running until its last part is done."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.config import Settings
from telecrm.db import session_scope, utcnow
from telecrm.jobs import repository
from telecrm.jobs.models import JobState
from telecrm.observability.logs import bind_task
from telecrm.observability.metrics import observe_task
from telecrm.retry import describe_error

log = logging.getLogger(__name__)

Arguments = dict[str, Any]
Result = dict[str, Any]


class Dispatch(Protocol):
    """``telecrm.jobs.dispatch.dispatch`` as a job body sees it."""

    def __call__(
        self, kind: str, arguments: Arguments, *, trigger: str, parent_id: uuid.UUID | None
    ) -> uuid.UUID: ...


def worker_name() -> str:
    """This process, as a job row names the process running it (and as the call sync's
    leases name their owner): host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobContext:
    job_id: uuid.UUID
    kind: str
    settings: Settings
    engine: Engine
    dispatch: Dispatch
    parent_id: uuid.UUID | None = None
    # in process: the loop's stop flag (SIGTERM), checked between parts
    should_stop: Callable[[], bool] = lambda: False
    # what the work needs from outside that a test or the in-process loop may give
    # (the CRM connector's factory); a worker builds them from the settings
    services: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    parts: int = 0

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def succeed(self, session: Session, result: Result) -> None:
        """Finish the job in ``session``, the unit of work of its last write: the work
        and the job's state are committed together, or neither is."""
        now = utcnow()
        repository.finish(session, self.job_id, JobState.SUCCEEDED, now, result=result)
        if self.parent_id is not None:
            repository.advance(session, self.parent_id, now)
        self.finished = True

    def progress(self, done: int, total: int | None) -> None:
        """Tell how far the job is (its own unit of work: call it between writes)."""
        with self.unit_of_work() as session:
            repository.set_progress(session, self.job_id, done, total)

    def fan_out(self, kind: str, parts: list[Arguments], result: Result) -> None:
        """Split the work into jobs of ``kind``, one per arguments of ``parts``: this job
        runs on until the last of them is done (each advances its progress)."""
        with self.unit_of_work() as session:
            repository.keep_running(session, self.job_id, len(parts), result)
        self.parts = len(parts)
        for done, arguments in enumerate(parts):
            if self.should_stop():
                raise JobStopped(f"stopped after {done} of {len(parts)} parts")
            self.dispatch(kind, arguments, trigger=f"job {self.job_id}", parent_id=self.job_id)


class JobStopped(Exception):
    """The in-process loop is stopping: the parts not begun are left undone."""


Body = Callable[..., Result]


def run_job(
    body: Body,
    kind: str,
    job_id: uuid.UUID,
    arguments: Arguments,
    *,
    settings: Settings,
    engine: Engine,
    dispatch: Dispatch,
    trigger: str,
    parent_id: uuid.UUID | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    services: dict[str, Any] | None = None,
) -> Result | None:
    """Run one job; its result, or None when it had finished already (a redelivery)."""
    now = utcnow()
    with session_scope(engine) as session:
        repository.add_queued(session, job_id, kind, arguments, trigger, parent_id, now)
        started = repository.start(session, job_id, worker_name(), now)
    if not started:
        log.info("job %s %s: finished already, nothing to do", kind, job_id)
        return None
    context = JobContext(
        job_id, kind, settings, engine, dispatch, parent_id, should_stop, services or {}
    )
    began = time.monotonic()
    with bind_task(str(job_id)):  # every line the job logs carries its id
        log.info("job %s %s started", kind, job_id)
        try:
            result = body(context, **arguments)
        except Exception as exc:
            observe_task(kind, time.monotonic() - began, ok=False)
            error = describe_error(exc)
            log.error("job %s %s failed: %s", kind, job_id, error)
            with session_scope(engine) as session:
                repository.finish(session, job_id, JobState.FAILED, utcnow(), error=error)
                if parent_id is not None:
                    repository.finish(
                        session, parent_id, JobState.FAILED, utcnow(), error=f"{kind}: {error}"
                    )
            raise
        if not context.finished and not context.parts:
            with session_scope(engine) as session:
                context.succeed(session, result)
        observe_task(kind, time.monotonic() - began, ok=True)
        log.info("job %s %s done: %s", kind, job_id, result)
    return result
