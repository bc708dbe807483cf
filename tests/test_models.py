"""``telecrm.models`` makes every table known before the first query; every command
imports it, so it must stay cheap: no web framework, PDF library or data frames."""

from __future__ import annotations

from pathlib import Path

from tests.fresh_process import imported_by


def test_the_models_load_without_the_web_the_pdf_library_or_pandas(tmp_path: Path) -> None:
    imported = imported_by("import telecrm.models", tmp_path)
    assert imported.libraries() & {"fastapi", "starlette", "fpdf", "pandas", "polars"} == set()
