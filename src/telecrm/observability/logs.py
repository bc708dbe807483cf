"""Logging for the API, the commands and the jobs: text (default) or, with
``TELECRM_LOG_FORMAT=json``, one JSON object per line with the time, level, logger,
message and the id of the request (``request_id``) or task (``task_id``) it belongs to.

The ids are context variables: the request middleware sets ``request_id`` for a
request (and everything it runs, in threads too); a job runner sets ``task_id`` with
``bind_task(id)`` around a task."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from telecrm.config import Settings

request_id: ContextVar[str | None] = ContextVar("telecrm_request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("telecrm_task_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def bind_task(task: str) -> Iterator[None]:
    """Every line logged inside the block carries ``task_id``."""
    token = task_id.set(task)
    try:
        yield
    finally:
        task_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request := request_id.get()) is not None:
            line["request_id"] = request
        if (task := task_id.get()) is not None:
            line["task_id"] = task
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process: telecrm's loggers and uvicorn's
    (its access log too) to stderr, in the format of ``TELECRM_LOG_FORMAT``. Given to
    uvicorn as its ``log_config``, it is applied in every server process."""
    formatter: dict[str, Any] = (
        {"()": f"{JsonFormatter.__module__}.{JsonFormatter.__qualname__}"}
        if settings.log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "telecrm",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"telecrm": formatter},
        "handlers": {"telecrm": handler},
        "root": {"handlers": ["telecrm"], "level": settings.log_level},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": settings.log_level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
