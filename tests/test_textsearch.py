"""Literal LIKE patterns (the API's filters use them: see their route tests)."""

from __future__ import annotations

from telecrm.textsearch import literal


def test_wildcards_and_the_escape_character_are_escaped() -> None:
    assert literal("50%") == "50/%"
    assert literal("a_b") == "a/_b"
    assert literal("1/2") == "1//2"
    assert literal("plain") == "plain"
