"""Text filters of the API (``?search=``, ``?actor=``, ``?prefix=``) as SQL ``LIKE``,
with what the user typed taken literally: a ``%`` or ``_`` in it is that character,
not a wildcard (``50%`` does not find ``500``, ``a_b`` does not find ``axb``). Each
is escaped, and the pattern says so with ``ESCAPE``, which SQLite and PostgreSQL
both honour."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

ESCAPE = "/"


def literal(text: str) -> str:
    """``text`` as a piece of a ``LIKE ... ESCAPE '/'`` pattern that matches only itself."""
    for special in (ESCAPE, "%", "_"):
        text = text.replace(special, ESCAPE + special)
    return text


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text``, ignoring case."""
    return func.lower(column).like(f"%{literal(text.lower())}%", escape=ESCAPE)


def starts_with(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` starts with ``text``, exactly."""
    return column.like(f"{literal(text)}%", escape=ESCAPE)
