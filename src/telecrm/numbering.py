"""Rewrite rules of dialled numbers (RATING.md §1.2): ``[prefix, replacement]`` pairs,
the first whose prefix matches applied once. In the kernel because the installation's
rules are a setting (checked when the settings load), a contract may carry its own,
and the rating engine applies them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

RewriteRules = tuple[tuple[str, str], ...]


def rewrite_rules(value: Iterable[Sequence[Any]]) -> RewriteRules:
    """Rules as ``[prefix, replacement]`` pairs, checked: the prefix is what must match
    (never empty: an empty prefix would match every number and shadow the rules after
    it); the replacement takes its place."""
    rules = []
    for position, rule in enumerate(value, start=1):
        if isinstance(rule, str | bytes) or len(rule) != 2:
            raise ValueError(f"rewrite rule {position}: expected [prefix, replacement]")
        prefix, replacement = rule
        if not isinstance(prefix, str) or not isinstance(replacement, str):
            raise ValueError(f"rewrite rule {position}: prefix and replacement must be text")
        if not prefix:
            raise ValueError(f"rewrite rule {position}: the prefix is empty")
        rules.append((prefix, replacement))
    return tuple(rules)
