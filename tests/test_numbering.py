"""Rewrite rules (RATING.md §1.2) as the settings, the contracts and the engine take them."""

from __future__ import annotations

from typing import Any

import pytest

from telecrm.numbering import rewrite_rules


def test_pairs_become_a_tuple_of_rules_in_their_order() -> None:
    assert rewrite_rules([["+", ""], ("00", ""), ["0", "62"]]) == (
        ("+", ""),
        ("00", ""),
        ("0", "62"),
    )
    assert rewrite_rules([]) == ()


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([["0", "62"], "062"], "rewrite rule 2: expected [prefix, replacement]"),
        ([["0", "62", "x"]], "rewrite rule 1: expected [prefix, replacement]"),
        ([["0", 62]], "rewrite rule 1: prefix and replacement must be text"),
        ([["", "62"]], "rewrite rule 1: the prefix is empty"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_position(rules: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rewrite_rules(rules)
