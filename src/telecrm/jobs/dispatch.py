"""One way to start any job, two ways to run it: with a broker (``TELECRM_BROKER_URL``)
the job is queued for the Celery workers; without one its task function runs here, in
this thread or (``background``, for the API, so that the request returns) in a thread
of its own. Either way the job has its row from the start, so its state can be read."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.config import Settings
from telecrm.db import get_engine, session_scope, utcnow
from telecrm.errors import BrokerUnavailable, ValidationFailed
from telecrm.jobs import repository
from telecrm.jobs.runner import Arguments, JobStopped, run_job
from telecrm.jobs.tasks import TASKS
from telecrm.retry import describe_error

log = logging.getLogger(__name__)


@dataclass
class Dispatcher:
    settings: Settings
    engine: Engine | None = None
    # in process only: the loop's stop flag, and services for the task bodies
    should_stop: Callable[[], bool] = lambda: False
    services: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = get_engine(self.settings.database_url)

    @property
    def uses_broker(self) -> bool:
        return self.settings.broker_url is not None

    def __call__(
        self,
        kind: str,
        arguments: Arguments,
        *,
        trigger: str,
        parent_id: uuid.UUID | None = None,
        background: bool = False,
    ) -> uuid.UUID:
        """Start a job of ``kind``; its id. In process and not ``background``, the job
        has run when this returns (a failure of a part is in its row, not raised)."""
        assert self.engine is not None
        with session_scope(self.engine) as session:
            job_id = self.queue(session, kind, arguments, trigger, parent_id)
        self.start(kind, job_id, arguments, trigger, parent_id, background)
        return job_id

    def queue(
        self,
        session: Session,
        kind: str,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """The job's row, queued, in ``session`` (the caller's unit of work): ``start``
        it once that is committed."""
        if kind not in TASKS:
            raise ValidationFailed(f"unknown job kind {kind!r} (known: {', '.join(TASKS)})")
        job_id = uuid.uuid4()
        repository.add_queued(session, job_id, kind, arguments, trigger, parent_id, utcnow())
        return job_id

    def start(
        self,
        kind: str,
        job_id: uuid.UUID,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None = None,
        background: bool = False,
    ) -> None:
        """Send the queued job to the broker, or run it here (in a thread of its own
        with ``background``)."""
        if self.uses_broker:
            self._send(kind, job_id, arguments, trigger, parent_id)
        elif background:
            threading.Thread(
                target=self._run_quietly,
                args=(kind, job_id, arguments, trigger, parent_id),
                name=f"job-{kind}",
                daemon=True,
            ).start()
        elif parent_id is not None:
            # A part, as a worker would run it: its failure is in its row (and its
            # parent's), and the other parts go on.
            self._run_quietly(kind, job_id, arguments, trigger, parent_id)
        else:
            self.run(kind, job_id, arguments, trigger, parent_id)

    def run(
        self,
        kind: str,
        job_id: uuid.UUID,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None,
    ) -> dict[str, Any] | None:
        """Run the job here (a Celery task's body, or in process)."""
        assert self.engine is not None
        return run_job(
            TASKS[kind],
            kind,
            job_id,
            arguments,
            settings=self.settings,
            engine=self.engine,
            dispatch=self,
            trigger=trigger,
            parent_id=parent_id,
            should_stop=self.should_stop,
            services=self.services,
        )

    def _run_quietly(
        self,
        kind: str,
        job_id: uuid.UUID,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None,
    ) -> None:
        try:
            self.run(kind, job_id, arguments, trigger, parent_id)
        except JobStopped:
            raise
        except Exception:  # recorded in the job's row by run_job
            log.debug("job %s %s failed", kind, job_id, exc_info=True)

    def _send(
        self,
        kind: str,
        job_id: uuid.UUID,
        arguments: Arguments,
        trigger: str,
        parent_id: uuid.UUID | None,
    ) -> None:
        from telecrm.jobs.celery_app import app_for  # Celery itself only with a broker

        try:
            app_for(self.settings).send_task(
                task_name(kind),
                kwargs={
                    "arguments": arguments,
                    "trigger": trigger,
                    "parent_id": None if parent_id is None else str(parent_id),
                },
                task_id=str(job_id),
                queue=self.settings.jobs_queue,
            )
        except Exception as exc:
            error = f"not queued: {describe_error(exc)}"
            assert self.engine is not None
            with session_scope(self.engine) as session:
                repository.fail_queued(session, job_id, utcnow(), error)
            raise BrokerUnavailable(f"job {kind} {error}") from exc


def task_name(kind: str) -> str:
    return f"telecrm.{kind}"
