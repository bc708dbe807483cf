"""The reference is the yardstick of the engine: it shares the frames' shape with it
(``rating.frames``) and none of its workings."""

from __future__ import annotations

from pathlib import Path

from tests.fresh_process import imported_by


def test_the_reference_imports_nothing_of_the_engine(tmp_path: Path) -> None:
    imported = imported_by("import telecrm.rating.reference", tmp_path)
    assert {"telecrm.rating.engine", "telecrm.rating.prefix_index"} & imported.modules == set()
