"""/metrics: who may read it, and what it says, from the middleware, the database, the
job seam and the real broker (RabbitMQ)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kombu import Connection, Exchange, Producer, Queue
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.orm import Session

from telecrm.auth.models import Role
from telecrm.observability import metrics
from tests import factories

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"
METRICS_TOKEN = "scraper-token-of-the-tests-0123456789"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture()
def scrape(app: FastAPI, client: TestClient) -> Callable[[], Samples]:
    app.state.settings = app.state.settings.model_copy(
        update={"metrics_token": SecretStr(METRICS_TOKEN)}
    )

    def read() -> Samples:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return _samples(response.text)

    return read


def test_the_metrics_token_or_an_admin_may_read_them_and_no_one_else(
    app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]
) -> None:
    assert client.get("/metrics").status_code == 401
    app.state.settings = app.state.settings.model_copy(
        update={"metrics_token": SecretStr(METRICS_TOKEN)}
    )
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert client.get("/metrics", headers=token).status_code == 200
    assert client.get("/metrics", headers=auth_headers(Role.ADMIN)).status_code == 200
    refused = client.get("/metrics", headers=auth_headers(Role.BILLING))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_requests_are_counted_by_route_template_method_and_status(
    client: TestClient, scrape: Callable[[], Samples], auth_headers: Callable[..., dict[str, str]]
) -> None:
    before = scrape()
    client.get("/api/health")
    client.get("/api/health")
    viewer = auth_headers(Role.VIEWER)
    client.get("/api/contracts/987654", headers=viewer)  # 404, one series for every id
    client.get("/api/contracts/987655", headers=viewer)
    client.get(f"/no/such/{uuid.uuid4().hex}")
    after = scrape()

    def grew(route: str, status: str) -> float:
        key = (
            "telecrm_http_requests_total",
            (("method", "GET"), ("route", route), ("status", status)),
        )
        return after.get(key, 0) - before.get(key, 0)

    assert grew("/api/health", "200") == 2
    assert grew("/api/contracts/{contract_id}", "404") == 2
    assert grew(metrics.UNMATCHED_ROUTE, "404") == 1
    latency = (
        "telecrm_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/health")),
    )
    assert after[latency] - before.get(latency, 0) == 2
    assert not any("987654" in str(labels) for _, labels in after)


def test_the_call_figures_are_read_from_the_database_at_each_scrape(
    db_session: Session, scrape: Callable[[], Samples]
) -> None:
    contract = factories.contract(db_session)
    factories.cdr(db_session, contract, cost="10", source="pbx-m", status="valid")
    factories.cdr(db_session, contract, source="pbx-m", status="valid")
    first = scrape()
    assert first["telecrm_cdrs_imported", (("source", "pbx-m"),)] == 2
    assert first["telecrm_cdrs_rated", ()] == 1
    assert first["telecrm_cdrs_sync", (("state", "pending"),)] == 2
    assert first["telecrm_database_up", ()] == 1
    assert ("telecrm_broker_up", ()) not in first  # no broker configured

    factories.cdr(
        db_session,
        contract,
        source="pbx-m",
        status="valid",
        rating_status="unrated",
        rating_reason="no_rate",
    )
    second = scrape()
    assert second["telecrm_cdrs_imported", (("source", "pbx-m"),)] == 3
    assert second["telecrm_cdrs_unrated", (("reason", "no_rate"),)] == 1


def test_task_durations_and_failures_come_from_the_job_seam(
    scrape: Callable[[], Samples],
) -> None:
    task = f"rate_day_{uuid.uuid4().hex[:8]}"
    metrics.observe_task(task, 2.0, ok=True)
    metrics.observe_task(task, 0.5, ok=False)
    metrics.observe_task(task, 0.25, ok=False)
    samples = scrape()
    assert samples["telecrm_task_failures_total", (("task", task),)] == 2
    ok = (("outcome", "ok"), ("task", task))
    failed = (("outcome", "failed"), ("task", task))
    assert samples["telecrm_task_duration_seconds_sum", ok] == 2.0
    assert samples["telecrm_task_duration_seconds_count", failed] == 2


@pytest.fixture()
def queue_name() -> Iterator[str]:
    """A queue of this test alone on the real RabbitMQ, deleted afterwards."""
    name = f"telecrm-test-{uuid.uuid4().hex[:12]}"
    yield name
    with Connection(RABBITMQ_URL) as connection:
        Queue(name, Exchange(name), routing_key=name)(connection.channel()).delete()


def test_the_depth_of_each_queue_is_read_from_the_broker(
    app: FastAPI, scrape: Callable[[], Samples], queue_name: str
) -> None:
    missing = f"{queue_name}-never-declared"
    app.state.settings = app.state.settings.model_copy(
        update={"broker_url": RABBITMQ_URL, "broker_queues": [queue_name, missing]}
    )
    queue = Queue(queue_name, Exchange(queue_name), routing_key=queue_name, durable=False)
    with Connection(RABBITMQ_URL) as connection:
        producer = Producer(connection.channel())
        for number in range(3):
            producer.publish(
                {"n": number}, exchange=queue.exchange, routing_key=queue_name, declare=[queue]
            )
    samples = scrape()
    assert samples["telecrm_queue_messages", (("queue", queue_name),)] == 3
    assert samples["telecrm_queue_messages", (("queue", missing),)] == 0
    assert samples["telecrm_broker_up", ()] == 1


def test_a_broker_that_is_down_is_a_gauge_not_a_failed_scrape(
    app: FastAPI, scrape: Callable[[], Samples]
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"broker_url": "amqp://guest:guest@127.0.0.1:1//", "health_timeout_seconds": 0.5}
    )
    samples = scrape()
    assert samples["telecrm_broker_up", ()] == 0
    assert samples["telecrm_database_up", ()] == 1
