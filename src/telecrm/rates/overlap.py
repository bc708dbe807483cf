"""The overlap rule, pure: within a group, two rates for the same destination prefix
may not be in effect at the same instant (the engine could not choose between them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """When a rate for ``destination`` is in effect: ``[start, end)``, ``None`` open."""

    label: str
    destination: str
    start: dt.datetime | None
    end: dt.datetime | None


def _starts_before_end_of(span: Span, earlier_end: dt.datetime | None) -> bool:
    return earlier_end is None or span.start is None or span.start < earlier_end


def overlapping_pairs(spans: Iterable[Span]) -> list[tuple[Span, Span]]:
    """Pairs of spans of one destination in effect at a common instant. Per
    destination, a sweep in order of start: a span overlaps an earlier one exactly
    when it starts before the latest end seen so far."""
    by_destination: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_destination[span.destination].append(span)
    pairs: list[tuple[Span, Span]] = []
    for group in by_destination.values():
        group.sort(key=lambda span: (span.start is not None, span.start or dt.datetime.min))
        latest: Span | None = None
        for span in group:
            if latest is not None and _starts_before_end_of(span, latest.end):
                pairs.append((latest, span))
            if latest is None or (
                latest.end is not None and (span.end is None or span.end > latest.end)
            ):
                latest = span
    return pairs


def range_problem(start: dt.datetime | None, end: dt.datetime | None) -> str | None:
    if start is not None and end is not None and end <= start:
        return f"effective_to {end.isoformat()} is not after effective_from {start.isoformat()}"
    return None


def window(span: Span) -> str:
    start = span.start.isoformat() if span.start else "the beginning"
    end = span.end.isoformat() if span.end else "open end"
    return f"{start} to {end}"
