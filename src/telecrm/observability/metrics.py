"""The Prometheus metrics of ``/metrics``.

Two kinds:

- counted in this process: HTTP requests (the middleware, ``observe_request``) and
  jobs run in this process (``observe_task``, called by the job runner). With several
  server processes each counts its own requests; a scrape reaches one of them.
- read at scrape time: the call figures, counted by the database (right across
  processes and machines: ``database_families``, extended through
  ``DATABASE_FIGURES``), and the depth of the broker's queues (``queue_families``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from kombu import Connection
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from telecrm.cdrs.figures.service import cdr_figures
from telecrm.config import Settings

log = logging.getLogger(__name__)

# This process's own metrics (never the global registry: a test builds many apps).
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "telecrm_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "telecrm_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
TASK_SECONDS = Histogram(
    "telecrm_task_duration_seconds",
    "Duration of the jobs run in this process, by task and outcome (ok, failed).",
    ["task", "outcome"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)
TASK_FAILURES = Counter(
    "telecrm_task_failures",
    "Jobs run in this process that failed, by task.",
    ["task"],
    registry=REGISTRY,
)

# A request that matched no route is counted under this, not its path: the paths a
# scanner tries would each become a series.
UNMATCHED_ROUTE = "<unmatched>"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_SECONDS.labels(route, method).observe(seconds)


def observe_task(name: str, seconds: float, ok: bool) -> None:
    """Record one run of a job: its duration, and whether it failed."""
    outcome = "ok" if ok else "failed"
    TASK_SECONDS.labels(name, outcome).observe(seconds)
    if not ok:
        TASK_FAILURES.labels(name).inc()


def _gauge(name: str, documentation: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(values.items()):
        family.add_metric([value], count)
    return family


def cdr_families(session: Session) -> Iterator[Metric]:
    figures = cdr_figures(session)
    yield _gauge("telecrm_cdrs_imported", "Calls stored, by source.", "source", figures.imported)
    yield _gauge(
        "telecrm_cdrs_by_status",
        "Calls stored, by validation status (new, valid, invalid).",
        "status",
        figures.by_status,
    )
    yield _gauge(
        "telecrm_cdrs_rejected", "Rows rejected at import, by source.", "source", figures.rejected
    )
    yield GaugeMetricFamily("telecrm_cdrs_rated", "Calls rated (a cost).", value=figures.rated)
    yield _gauge(
        "telecrm_cdrs_unrated", "Calls billing could not rate, by reason.", "reason",
        figures.unrated,
    )  # fmt: skip
    yield _gauge(
        "telecrm_cdrs_sync",
        "Calls by state of their push to the CRM (pending, synced, failed).",
        "state",
        figures.sync,
    )


# What a scrape reads from the database: each function yields metric families. The
# jobs' table (runs per task and state, their durations) joins here.
DATABASE_FIGURES: list[Callable[[Session], Iterable[Metric]]] = [cdr_families]


def database_families(session: Session) -> list[Metric]:
    families: list[Metric] = []
    try:
        for figures in DATABASE_FIGURES:
            families.extend(figures(session))
        up = 1
    except SQLAlchemyError as exc:
        log.warning("metrics: the database figures could not be read: %s", exc)
        session.rollback()
        up = 0
    families.append(
        GaugeMetricFamily(
            "telecrm_database_up", "Whether this scrape read the database figures.", value=up
        )
    )
    return families


def queue_families(settings: Settings) -> list[Metric]:
    """The messages waiting in each of ``TELECRM_BROKER_QUEUES`` (a queue not declared
    yet holds 0); none without a broker."""
    if settings.broker_url is None:
        return []
    depth = GaugeMetricFamily(
        "telecrm_queue_messages", "Messages waiting in the broker's queue.", labels=["queue"]
    )
    timeout = settings.health_timeout_seconds
    try:
        with Connection(settings.broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
            for queue in settings.broker_queues or [settings.jobs_queue]:
                with connection.channel() as channel:
                    try:
                        _, messages, _ = channel.queue_declare(queue=queue, passive=True)
                    except ChannelError:  # AMQP's 404: no such queue yet
                        messages = 0
                depth.add_metric([queue], messages)
    except Exception as exc:  # kombu raises the transport's own errors
        log.warning("metrics: the broker's queues could not be read: %s", exc)
        return [_broker_up(0)]
    return [depth, _broker_up(1)]


def _broker_up(up: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "telecrm_broker_up", "Whether this scrape reached the broker.", value=up
    )


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def scrape(session: Session, settings: Settings) -> bytes:
    """The text exposition of every metric, the database and broker read now."""
    now = CollectorRegistry(auto_describe=False)
    now.register(_Families(database_families(session) + queue_families(settings)))
    return generate_latest(REGISTRY) + generate_latest(now)
