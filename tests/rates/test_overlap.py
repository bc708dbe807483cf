"""The overlap rule: rates of one destination in effect at a common instant."""

from __future__ import annotations

import datetime as dt

from telecrm.rates.overlap import Span, overlapping_pairs


def _at(year: int, month: int = 1) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _pairs(*spans: tuple[str, dt.datetime | None, dt.datetime | None]) -> set[tuple[str, str]]:
    found = overlapping_pairs(Span(label, "62", start, end) for label, start, end in spans)
    return {(first.label, second.label) for first, second in found}


def test_back_to_back_ranges_do_not_overlap() -> None:
    assert _pairs(("old", None, _at(2025)), ("new", _at(2025), None)) == set()


def test_open_ranges_overlap_everything_they_reach() -> None:
    assert _pairs(("a", None, None), ("b", _at(2030), _at(2031))) == {("a", "b")}
    assert _pairs(("a", _at(2025), None), ("b", _at(2026), _at(2027))) == {("a", "b")}
    assert _pairs(("a", None, _at(2025)), ("b", None, _at(2024))) == {("a", "b")}


def test_a_long_range_overlaps_a_later_one_after_a_short_one() -> None:
    found = _pairs(
        ("long", _at(2020), _at(2030)), ("short", _at(2021), _at(2022)), ("late", _at(2025), None)
    )
    assert found == {("long", "short"), ("long", "late")}


def test_different_destinations_never_overlap() -> None:
    spans = [Span("a", "62", None, None), Span("b", "628", None, None)]
    assert overlapping_pairs(spans) == []
