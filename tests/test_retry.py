from __future__ import annotations

import random

import pytest

from telecrm.retry import RetriesExhausted, RetryPolicy, call_with_retries

POLICY = RetryPolicy(max_attempts=4, backoff_seconds=1.0, backoff_max_seconds=5.0)


def test_backoff_doubles_with_jitter_and_is_bounded() -> None:
    rng = random.Random(7)
    delays = [POLICY.delay(attempt, rng) for attempt in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        base = 1.0 * 2 ** (attempt - 1)
        assert min(base, 5.0) <= delay <= min(base + 1.0, 5.0)
    assert delays[-1] == 5.0
    assert len({POLICY.delay(1) for _ in range(20)}) > 1  # jitter: not all the same


def test_a_network_error_is_retried_until_it_succeeds() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("connection reset by peer")
        return "rows"

    assert call_with_retries(flaky, POLICY, (OSError,), "fetch", sleep=waits.append) == "rows"
    assert len(calls) == 3
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 2.0 and 2.0 <= waits[1] <= 3.0


def test_the_tries_are_bounded_and_the_last_error_is_told() -> None:
    waits: list[float] = []

    def down() -> None:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(RetriesExhausted) as excinfo:
        call_with_retries(down, POLICY, (OSError,), "fetch", sleep=waits.append)
    assert excinfo.value.attempts == 4
    assert len(waits) == 3
    assert "failed 4 times" in str(excinfo.value)
    assert "ConnectionRefusedError: connection refused" in str(excinfo.value)


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def wrong_password() -> None:
        calls.append(1)
        raise PermissionError("password authentication failed")

    with pytest.raises(PermissionError):
        call_with_retries(wrong_password, POLICY, (ConnectionError,), "fetch", sleep=lambda _: None)
    assert len(calls) == 1
