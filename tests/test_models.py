"""``telecrm.models`` makes every table known before the first query; every command
imports it, so it must stay cheap: no web framework, PDF library or data frames."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

import telecrm.models  # noqa: F401  (every mapper configured)
from telecrm.cdrs.models import Cdr, CdrRating
from telecrm.rating.types import RatingStatus
from tests.fresh_process import imported_by


def test_the_models_load_without_the_web_the_pdf_library_or_pandas(tmp_path: Path) -> None:
    imported = imported_by("import telecrm.models", tmp_path)
    assert imported.libraries() & {"fastapi", "starlette", "fpdf", "pandas", "polars"} == set()


def test_a_rating_field_read_through_a_call_is_not_a_column_of_cdrs() -> None:
    """``cdr.cost`` reads the call's rating; ``Cdr.cost`` in a query would compare a
    Python object (always false), so it says which column to use instead."""
    call = Cdr()
    assert (call.rating_status, call.cost, call.invoice_id) == (RatingStatus.PENDING, None, None)
    call.rating = CdrRating(rating_status=RatingStatus.RATED, cost=Decimal("1.5"), invoice_id=7)
    assert (call.rating_status, call.cost, call.invoice_id) == (
        RatingStatus.RATED,
        Decimal("1.5"),
        7,
    )
    with pytest.raises(AttributeError, match=r"query CdrRating\.cost"):
        select(Cdr.id).where(Cdr.cost > 0)
