"""What the rating run asks of the invoices built on it: which calls a sent invoice
locks, so that a rerate leaves them as they were billed (answered by
``telecrm.invoices.usage``, which owns the rule; see ``telecrm.usage``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression

from telecrm.usage import UsageCheck

# A clause over a rating's invoice id (NULL: on no invoice): true when no invoice that
# was sent, awaits payment or is paid holds the rating.
not_locked_by_invoice: UsageCheck[Callable[[SQLColumnExpression[Any]], ColumnElement[bool]]] = (
    UsageCheck("is the rating with this invoice id on no sent invoice?")
)
