"""What a fetch stores goes through billing's CDR import (telecrm.cdrs): the same
parsers, the same unique key per call, the same rejects. This module adapts each
kind of source to it and adds up what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportCounts:
    files: int = 0
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    # a few rejected rows for the run's report: where and why
    reject_examples: list[dict[str, Any]] = field(default_factory=list)
