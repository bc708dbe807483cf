"""Questions reference data asks about data of the layers above it: "did this rate
rate calls?", "does this contract have invoices?". The lower layer declares the
question; the layer that owns the data answers it when it is imported, so that
imports point down. ``telecrm.models`` imports every answer, and the app, the CLI
and the tests import it before the first query. A question nobody answers is an
error, never a silent "not in use"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class UsageCheck(Generic[F]):
    def __init__(self, question: str) -> None:
        self.question = question
        self._answer: F | None = None

    def answer_with(self, answer: F) -> F:
        """Register ``answer`` (usable as a decorator)."""
        self._answer = answer
        return answer

    @property
    def ask(self) -> F:
        if self._answer is None:
            raise RuntimeError(f"nothing answers {self.question!r}: import telecrm.models first")
        return self._answer
