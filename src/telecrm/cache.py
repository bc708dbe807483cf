"""Aggregate reads cached in Redis (``TELECRM_REDIS_URL``); without it, nothing is.

``get_or_compute(settings, namespace, params, compute, answer_type, depends_on)``
returns the cached answer of ``namespace`` for ``params``, or computes, stores and
returns it. The answer is stored as JSON through its Pydantic type, so a ``Decimal``
comes back exact. Each namespace (the cached read's own and the data it is computed
from, ``depends_on``) has a generation counter in Redis, part of the key:

    {prefix}:cache:{namespace}:{generation, ...}:{hash of the parameters}

A run that changes data calls ``invalidate_on_commit(session, CDRS, ...)``:
once its unit of work commits, the counters of those namespaces go up, and no key
made before can be read again (it expires after ``TELECRM_CACHE_TTL_SECONDS``). A
reader that computed from the old data while the run committed stores its answer
under the old generation, where nobody looks: no lock, no race.

Redis failing at run time is never the reader's failure: the answer is computed from
the database, and a warning logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

import redis
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from telecrm.config import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# The data a cached answer may be computed from; a run that changes it invalidates it.
CDRS = "cdrs"  # calls stored (an import, a push, a fetch), validated or corrected
RATINGS = "ratings"  # a rating run's results
INVOICES = "invoices"  # drafts generated, invoices moved along their status flow
CONTRACTS = "contracts"  # contracts and their account codes
DEAL_AGGREGATIONS = "deal_aggregations"  # the stored deal aggregations, recomputed

_PENDING = "telecrm_cache_pending"
# session.info key: the settings of the unit of work, whose Redis is invalidated.
SETTINGS_INFO = "telecrm_settings"


@lru_cache
def client(url: str, timeout: float) -> redis.Redis:
    """One client (one connection pool) per URL for the life of the process."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


def _client(settings: Settings) -> redis.Redis | None:
    if settings.redis_url is None:
        return None
    return client(settings.redis_url, settings.health_timeout_seconds)


@lru_cache(maxsize=256)
def _adapter(answer_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(answer_type)


def _generation_key(prefix: str, namespace: str) -> str:
    return f"{prefix}:generation:{namespace}"


def _params_hash(params: Mapping[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def get_or_compute(
    settings: Settings,
    namespace: str,
    params: Mapping[str, Any],
    compute: Callable[[], T],
    answer_type: Any,
    depends_on: Iterable[str] = (),
) -> T:
    """``compute()``, or its answer cached for ``namespace`` and ``params`` (simple
    values: numbers, strings, dates) as long as neither the namespace nor any of
    ``depends_on`` was invalidated since. ``answer_type``: what ``compute`` returns
    (a Pydantic model, ``list[Model]``, ``dict[str, Decimal]`` ...)."""
    redis_client = _client(settings)
    if redis_client is None:
        return compute()
    adapter = _adapter(answer_type)
    namespaces = [namespace, *dict.fromkeys(n for n in depends_on if n != namespace)]
    prefix = settings.cache_prefix
    try:
        generations = redis_client.mget([_generation_key(prefix, n) for n in namespaces])
        versions = ".".join(str(int(g)) if g else "0" for g in generations)
        key = f"{prefix}:cache:{namespace}:{versions}:{_params_hash(params)}"
        stored = redis_client.get(key)
    except redis.RedisError as exc:
        log.warning("cache: Redis failed (%s); %s computed without the cache", exc, namespace)
        return compute()
    if stored is not None:
        try:
            answer: T = adapter.validate_json(stored)
            return answer
        except ValidationError:
            log.warning("cache: unreadable entry %s (an older format?); computed again", key)
    answer = compute()
    try:
        redis_client.set(key, adapter.dump_json(answer), ex=settings.cache_ttl_seconds)
    except redis.RedisError as exc:
        log.warning("cache: Redis failed (%s); %s not stored", exc, namespace)
    return answer


def invalidate(settings: Settings, *namespaces: str) -> None:
    """Make every cached answer of, or computed from, these namespaces unreadable now."""
    redis_client = _client(settings)
    if redis_client is None or not namespaces:
        return
    try:
        with redis_client.pipeline(transaction=False) as pipe:
            for namespace in sorted(set(namespaces)):
                pipe.incr(_generation_key(settings.cache_prefix, namespace))
            pipe.execute()
    except redis.RedisError as exc:
        # The entries expire after the TTL: until then a reader may get the old answer.
        log.warning(
            "cache: Redis failed (%s); %s not invalidated (stale for up to %d s)",
            exc,
            ", ".join(sorted(set(namespaces))),
            settings.cache_ttl_seconds,
        )


def invalidate_on_commit(session: Session, *namespaces: str) -> None:
    """Invalidate ``namespaces`` once ``session``'s unit of work commits: before it,
    other readers still see the old data and may cache it; after it, nobody reads
    what they cached. A rolled-back unit of work invalidates nothing (its session is
    closed with what it noted). The Redis of the settings the unit of work was opened
    with (``SETTINGS_INFO``, set by the API's request dependency), else of the process."""
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.update(namespaces)


@event.listens_for(Session, "after_commit")
def _invalidate_committed(session: Session) -> None:
    pending: set[str] | None = session.info.pop(_PENDING, None)
    if pending:
        invalidate(session.info.get(SETTINGS_INFO) or get_settings(), *pending)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the unit of work's, not a savepoint's
        session.info.pop(_PENDING, None)
