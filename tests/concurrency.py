"""Real concurrency for the tests: work run in threads of its own (each request or
run with its own connection), and a rendezvous that holds a race's window open so
that a race is run every time rather than now and then."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def meet_after(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, parties: int, timeout: float = 1.0
) -> None:
    """Make each caller of ``owner.name`` wait, once the call returns, until ``parties``
    callers have got there: every concurrent caller has read before any goes on to
    write. Where the code under test makes callers wait their turn instead, the
    rendezvous gives up after ``timeout`` seconds and each caller goes on alone."""
    original = getattr(owner, name)
    barrier = threading.Barrier(parties, timeout=timeout)

    def call_then_meet(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    monkeypatch.setattr(owner, name, call_then_meet)


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Run each call in a thread of its own, all at once; their results in order (the
    first exception is raised)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]
