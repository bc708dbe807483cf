"""``telecrm.cache`` against the real Redis, each test under a key prefix of its own."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
import redis
from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from telecrm import cache
from telecrm.config import Settings
from tests.conftest import TEST_REDIS_URL

# Nothing listens on port 1: a Redis that is down.
DOWN_REDIS_URL = "redis://127.0.0.1:1/0"


class Figures(BaseModel):
    total: Decimal
    calls: int


class Computations:
    def __init__(self, answer: Figures) -> None:
        self.answer = answer
        self.count = 0

    def __call__(self) -> Figures:
        self.count += 1
        return self.answer.model_copy()


def _keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(TEST_REDIS_URL).scan_iter(f"{prefix}:*"))


def test_the_cached_answer_equals_the_computed_one_with_exact_decimals(
    cached_settings: Settings,
) -> None:
    compute = Computations(Figures(total=Decimal("12345678901.123456789"), calls=3))
    first = cache.get_or_compute(cached_settings, "figures", {"month": 11}, compute, Figures)
    second = cache.get_or_compute(cached_settings, "figures", {"month": 11}, compute, Figures)

    assert compute.count == 1
    assert first == second == compute.answer
    assert isinstance(second.total, Decimal)
    assert str(second.total) == "12345678901.123456789"
    # other parameters are another answer
    cache.get_or_compute(cached_settings, "figures", {"month": 12}, compute, Figures)
    assert compute.count == 2


def test_an_invalidated_namespace_or_dependency_is_computed_again(
    cached_settings: Settings,
) -> None:
    compute = Computations(Figures(total=Decimal(1), calls=1))

    def read() -> Figures:
        return cache.get_or_compute(
            cached_settings, "figures", {}, compute, Figures, depends_on=[cache.CDRS]
        )

    read()
    read()
    cache.invalidate(cached_settings, cache.RATINGS)  # not what it depends on
    read()
    assert compute.count == 1
    cache.invalidate(cached_settings, cache.CDRS)
    read()
    assert compute.count == 2
    cache.invalidate(cached_settings, "figures")
    read()
    assert compute.count == 3


def test_the_entry_expires_after_the_ttl(cached_settings: Settings) -> None:
    settings = cached_settings.model_copy(update={"cache_ttl_seconds": 77})
    cache.get_or_compute(settings, "figures", {}, Computations(Figures(total=1, calls=1)), Figures)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    [key] = [k for k in _keys(settings.cache_prefix) if b":cache:" in k]
    assert 0 < client.ttl(key) <= 77


def test_without_the_setting_nothing_is_cached_and_no_redis_is_touched(
    settings: Settings, redis_prefix: str
) -> None:
    uncached = settings.model_copy(update={"redis_url": None, "cache_prefix": redis_prefix})
    compute = Computations(Figures(total=Decimal("2.50"), calls=2))
    answers = [cache.get_or_compute(uncached, "figures", {}, compute, Figures) for _ in range(2)]
    cache.invalidate(uncached, cache.CDRS)

    assert compute.count == 2
    assert answers == [compute.answer, compute.answer]
    assert _keys(redis_prefix) == []


def test_a_redis_that_is_down_means_computing_directly_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = settings.model_copy(update={"redis_url": DOWN_REDIS_URL, "health_timeout_seconds": 0.5})
    compute = Computations(Figures(total=Decimal("7.77"), calls=7))
    with caplog.at_level(logging.WARNING, logger="telecrm.cache"):
        assert cache.get_or_compute(down, "figures", {}, compute, Figures) == compute.answer
        cache.invalidate(down, cache.CDRS)
    assert compute.count == 1
    assert "computed without the cache" in caplog.text
    assert "not invalidated" in caplog.text


def test_an_unreadable_entry_is_computed_again(cached_settings: Settings) -> None:
    compute = Computations(Figures(total=Decimal(3), calls=3))
    cache.get_or_compute(cached_settings, "figures", {}, compute, Figures)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    [key] = [k for k in _keys(cached_settings.cache_prefix) if b":cache:" in k]
    client.set(key, b'{"total": "not a number"}')

    assert cache.get_or_compute(cached_settings, "figures", {}, compute, Figures) == compute.answer
    assert compute.count == 2


def _generation(settings: Settings, namespace: str) -> int:
    value = redis.Redis.from_url(TEST_REDIS_URL).get(
        f"{settings.cache_prefix}:generation:{namespace}"
    )
    return int(value or 0)


def test_a_unit_of_work_invalidates_when_it_commits_and_not_when_it_rolls_back(
    engine: Engine, cached_settings: Settings
) -> None:
    with Session(engine) as session:
        session.info[cache.SETTINGS_INFO] = cached_settings
        cache.invalidate_on_commit(session, cache.CDRS, cache.RATINGS)
        assert _generation(cached_settings, cache.CDRS) == 0  # not before the commit
        session.commit()
    assert (_generation(cached_settings, cache.CDRS), _generation(cached_settings, "ratings")) == (
        1,
        1,
    )

    with Session(engine) as session:
        session.info[cache.SETTINGS_INFO] = cached_settings
        session.execute(text("SELECT 1"))
        cache.invalidate_on_commit(session, cache.CDRS)
        session.rollback()
        session.commit()  # a later unit of work of the same session: nothing noted
    assert _generation(cached_settings, cache.CDRS) == 1
