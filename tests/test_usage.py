"""Questions of reference data answered by the layers above it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import telecrm.models  # noqa: F401  (imports every answer)
from telecrm.contracts import usage as contract_usage
from telecrm.rates import usage as rate_usage
from telecrm.usage import UsageCheck


def test_a_question_nobody_answers_is_an_error_not_a_no() -> None:
    check: UsageCheck[Callable[[int], bool]] = UsageCheck("is this thing in use?")
    with pytest.raises(RuntimeError, match="is this thing in use"):
        check.ask(1)


def test_the_registered_answer_is_asked() -> None:
    check: UsageCheck[Callable[[int], bool]] = UsageCheck("is this thing in use?")

    @check.answer_with
    def in_use(thing: int) -> bool:
        return thing == 7

    assert (check.ask(7), check.ask(8)) == (True, False)


@pytest.mark.parametrize("module", [rate_usage, contract_usage])
def test_every_question_of_reference_data_is_answered(module: object) -> None:
    checks = [value for value in vars(module).values() if isinstance(value, UsageCheck)]
    assert checks
    for check in checks:
        assert callable(check.ask), check.question
