"""The Celery app, made from the settings: broker ``TELECRM_BROKER_URL``, telecrm's
queue ``TELECRM_JOBS_QUEUE``, the billing time zone, and the rules that make a killed
worker harmless: a task is acknowledged when it ends (``acks_late``), a worker that
dies mid-task gives its message back (``reject_on_worker_lost``), and each process
takes one message at a time (``prefetch_multiplier=1``), so nothing waits behind a
long task in a busy process. A job's state lives in the ``jobs`` table, not in a
result backend.

``celery -A telecrm.jobs.celery_app worker`` works as well as ``telecrm worker``."""

from __future__ import annotations

import uuid
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init

from telecrm.config import Settings, get_settings
from telecrm.db import get_engine
from telecrm.errors import ValidationFailed
from telecrm.jobs.dispatch import Dispatcher, task_name
from telecrm.jobs.schedule import beat_schedule
from telecrm.jobs.tasks import TASKS


def make_app(settings: Settings) -> Celery:
    if settings.broker_url is None:
        raise ValidationFailed("no broker is configured: set TELECRM_BROKER_URL")
    app = Celery("telecrm", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.jobs_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        timezone=settings.timezone,
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(settings),
    )
    for kind in TASKS:
        app.task(name=task_name(kind), bind=True)(_task(kind))
    return app


def _task(kind: str) -> Any:
    def run(
        task: Task, arguments: dict[str, Any], trigger: str = "beat", parent_id: str | None = None
    ) -> dict[str, Any] | None:
        settings = get_settings()
        return Dispatcher(settings).run(
            kind,
            uuid.UUID(task.request.id),
            arguments,
            trigger,
            None if parent_id is None else uuid.UUID(parent_id),
        )

    run.__name__ = run.__qualname__ = kind
    return run


_apps: dict[str, Celery] = {}


def app_for(settings: Settings) -> Celery:
    """One app per configuration, for the life of the process (its broker connections)."""
    key = settings.model_dump_json(
        include={
            "broker_url",
            "jobs_queue",
            "timezone",
            "worker_interval_seconds",
            "invoice_drafts_hour",
        }
    )
    if key not in _apps:
        _apps[key] = make_app(settings)
    return _apps[key]


@worker_process_init.connect
def _fresh_connections(**_kwargs: Any) -> None:
    """A forked worker process must not share its parent's database connections."""
    get_engine(get_settings().database_url).dispose(close=False)


def __getattr__(name: str) -> Any:
    # ``celery -A telecrm.jobs.celery_app`` looks for ``app``: made on first use, from
    # the environment's settings, so that importing this module needs no broker.
    if name == "app":
        return app_for(get_settings())
    raise AttributeError(name)
