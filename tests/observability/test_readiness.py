"""/api/health/ready against the real database, Redis and RabbitMQ, and with each of
them unreachable."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from telecrm.db import make_engine
from tests.conftest import TEST_REDIS_URL
from tests.observability.test_metrics import RABBITMQ_URL

DOWN = {"health_timeout_seconds": 0.5}


def _configure(app: FastAPI, **settings: Any) -> None:
    app.state.settings = app.state.settings.model_copy(update=settings)


def test_ready_with_the_database_alone_by_default(client: TestClient) -> None:
    response = client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_ready_checks_the_broker_and_redis_when_they_are_set(
    app: FastAPI, client: TestClient
) -> None:
    _configure(app, broker_url=RABBITMQ_URL, redis_url=TEST_REDIS_URL)
    response = client.get("/api/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "redis": "ok"}


def test_not_ready_names_each_service_that_failed(app: FastAPI, client: TestClient) -> None:
    _configure(app, broker_url="amqp://guest:guest@127.0.0.1:1//", redis_url=TEST_REDIS_URL, **DOWN)
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["error"]) == ("not_ready", "not ready: broker failed")
    assert [item["record"] for item in body["detail"]] == ["broker"]

    _configure(app, broker_url=None, redis_url="redis://127.0.0.1:1/0", **DOWN)
    body = client.get("/api/health/ready").json()
    assert [item["record"] for item in body["detail"]] == ["redis"]
    assert "Connection" in body["detail"][0]["message"]


def test_not_ready_when_the_database_does_not_answer(app: FastAPI, client: TestClient) -> None:
    app.state.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    assert [item["record"] for item in response.json()["detail"]] == ["database"]
    assert client.get("/api/health/ready").headers["X-Request-ID"]
