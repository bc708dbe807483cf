"""Retrying an operation that failed on the network: exponential backoff with jitter,
a bounded number of tries, then one clear error that says how often it was tried.

Jitter spreads the retries of many workers that lost the same server at the same
moment, so they do not all come back at once."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from telecrm.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float

    @classmethod
    def for_cdr_fetch(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.cdr_fetch_max_attempts,
            backoff_seconds=settings.cdr_fetch_backoff_seconds,
            backoff_max_seconds=settings.cdr_fetch_backoff_max_seconds,
        )

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed try number ``attempt`` (1-based): the base doubled per
        try, plus up to one base of jitter, never more than the maximum."""
        exponential = self.backoff_seconds * 2 ** (attempt - 1)
        jitter = (rng or random).uniform(0, self.backoff_seconds)
        return min(exponential + jitter, self.backoff_max_seconds)


class RetriesExhausted(Exception):
    """Every try failed; ``last_error`` is the error of the last one."""

    def __init__(self, attempts: int, last_error: BaseException) -> None:
        super().__init__(f"failed {attempts} times; last error: {describe_error(last_error)}")
        self.attempts = attempts
        self.last_error = last_error


def describe_error(error: BaseException) -> str:
    """One line, as a person reads it: the driver's first line, not a traceback."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0]}" if lines else type(original).__name__


def call_with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy,
    retry_on: tuple[type[BaseException], ...],
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``; on one of ``retry_on`` wait and try again, up to the policy's
    number of tries. Raises ``RetriesExhausted`` when the last try fails too; any other
    error goes through at once (retrying a wrong password only delays the message)."""

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s: try %d of %d failed (%s); retrying in %.1f s",
            what,
            state.attempt_number,
            policy.max_attempts,
            describe_error(error) if error else "?",
            wait,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=lambda state: policy.delay(state.attempt_number),
        retry=retry_if_exception_type(retry_on),
        before_sleep=log_retry,
        sleep=sleep,
    )
    try:
        return retrying(operation)
    except RetryError as exc:
        last = exc.last_attempt.exception() or exc
        raise RetriesExhausted(exc.last_attempt.attempt_number, last) from last
