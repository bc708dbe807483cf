"""Whether this process can serve: the database answers, and the broker and Redis
when they are configured. Each check waits at most ``TELECRM_HEALTH_TIMEOUT_SECONDS``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kombu import Connection
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text

from telecrm import cache
from telecrm.config import Settings
from telecrm.errors import NotReady

log = logging.getLogger(__name__)

OK = "ok"


class Readiness(BaseModel):
    status: str = Field(description="ready")
    checks: dict[str, str] = Field(
        description="database, and broker and redis when configured: ok each."
    )


def _outcome(name: str, check: Callable[[], object]) -> str:
    try:
        check()
    except Exception as exc:  # any failure of the service is the answer, not an error
        log.warning("readiness: %s failed: %s", name, exc)
        return f"{type(exc).__name__}: {exc}".strip()[:300]
    return OK


def _database(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _broker(url: str, timeout: float) -> None:
    with Connection(url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)


def _redis(settings: Settings) -> None:
    assert settings.redis_url is not None
    cache.client(settings.redis_url, settings.health_timeout_seconds).ping()


def readiness(engine: Engine, settings: Settings) -> Readiness:
    """``NotReady`` (503) naming each service that failed, and how."""
    checks = {"database": _outcome("database", lambda: _database(engine))}
    if settings.broker_url is not None:
        url, timeout = settings.broker_url, settings.health_timeout_seconds
        checks["broker"] = _outcome("broker", lambda: _broker(url, timeout))
    if settings.redis_url is not None:
        checks["redis"] = _outcome("redis", lambda: _redis(settings))
    failed = {name: outcome for name, outcome in checks.items() if outcome != OK}
    if failed:
        raise NotReady(
            f"not ready: {', '.join(failed)} failed",
            detail=[{"record": name, "message": outcome} for name, outcome in failed.items()],
        )
    return Readiness(status="ready", checks=checks)
