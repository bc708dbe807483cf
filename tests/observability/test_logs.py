"""JSON log lines, with the request id of the request (given or generated, echoed) or
the task id of the job they belong to."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from telecrm.config import Settings
from telecrm.observability.logs import JsonFormatter, bind_task, configure_logging, request_id


@pytest.fixture()
def json_lines() -> Iterator[io.StringIO]:
    """telecrm's log records as JSON lines, in a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("telecrm")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object_with_time_level_logger_and_message(
    json_lines: io.StringIO,
) -> None:
    logging.getLogger("telecrm.somewhere").warning("rated %d calls", 3)
    with bind_task("task-42"):
        logging.getLogger("telecrm.jobs").info("a job's line")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("telecrm.somewhere").exception("it failed")

    first, in_task, failed = _lines(json_lines)
    assert first["message"] == "rated 3 calls"
    assert (first["level"], first["logger"]) == ("WARNING", "telecrm.somewhere")
    assert str(first["time"]).endswith("+00:00")
    assert "request_id" not in first and "task_id" not in first
    assert in_task["task_id"] == "task-42"
    assert "ValueError: boom" in str(failed["exception"])
    assert request_id.get() is None


def test_each_request_logs_under_its_id_given_or_generated_and_echoed(
    app: FastAPI, client: TestClient, json_lines: io.StringIO
) -> None:
    # a readiness check that fails logs a warning inside the request
    app.state.settings = app.state.settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "health_timeout_seconds": 0.5}
    )
    given = client.get("/api/health/ready", headers={"X-Request-ID": "lb-7f3a.1"})
    generated = client.get("/api/health/ready")
    hostile = client.get("/api/health/ready", headers={"X-Request-ID": "a b\tc" + "x" * 200})

    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    new_id = generated.headers["X-Request-ID"]
    assert len(new_id) == 32
    assert hostile.headers["X-Request-ID"] not in ("", new_id)
    assert " " not in hostile.headers["X-Request-ID"]
    ids = [line.get("request_id") for line in _lines(json_lines)]
    assert ids == ["lb-7f3a.1", new_id, hostile.headers["X-Request-ID"]]


def test_the_json_format_setting_configures_the_process(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(settings.model_copy(update={"log_format": "json"}))
        logging.getLogger("uvicorn.access").info("GET /api/health 200")
        logging.getLogger("telecrm.cache").warning("Redis failed")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.access", "GET /api/health 200"),
        ("telecrm.cache", "Redis failed"),
    ]
