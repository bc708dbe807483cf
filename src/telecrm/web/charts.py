"""The charts of a month's figures, as the data Chart.js draws (``static/console/
charts.js`` reads it from a ``<script type="application/json">`` block). Only the
aggregates go to the browser; money as exact decimal strings. Each chart has a table
of the same figures on its page."""

from __future__ import annotations

from typing import Any

from telecrm.cdrs.traffic.schemas import MonthFigures


def _series(label: str, values: list[Any], kind: str = "bar", axis: str = "y") -> dict[str, Any]:
    return {"label": label, "data": values, "type": kind, "yAxisID": axis}


def month_charts(figures: MonthFigures, money: str = "Revenue") -> dict[str, dict[str, Any]]:
    """Chart id -> its title, labels (days of the month) and series; ``money`` names
    the rated calls' cost: revenue for staff, cost for a customer."""
    days = [day.day.day for day in figures.days]
    charts: dict[str, dict[str, Any]] = {
        "calls-per-day": {
            "title": "Calls per day",
            "labels": days,
            "series": [
                _series("Calls", [day.calls for day in figures.days]),
                _series("Answered", [day.answered for day in figures.days]),
            ],
        },
        "minutes-per-day": {
            "title": "Minutes per day (answered calls)",
            "labels": days,
            "series": [_series("Minutes", [str(day.minutes) for day in figures.days])],
        },
        "revenue-per-day": {
            "title": f"{money} per day",
            "labels": days,
            "series": [
                _series(currency, [str(day.revenue.get(currency, 0)) for day in figures.days])
                for currency in figures.currencies
            ],
        },
        "quality-per-day": {
            "title": "ASR (%) and ACD (s) per day",
            "labels": days,
            "series": [
                _series("ASR %", [_text(day.asr) for day in figures.days], "line", "y"),
                _series("ACD s", [_text(day.acd) for day in figures.days], "line", "y1"),
            ],
        },
        "destinations": {
            "title": f"Top destinations by {money.lower()}",
            "labels": [f"{row.key} {row.name or ''}".strip() for row in figures.top_destinations],
            "series": [
                _series(
                    money + (f" ({figures.currencies[0]})" if len(figures.currencies) == 1 else ""),
                    [str(row.revenue) for row in figures.top_destinations],
                )
            ],
        },
    }
    return charts


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
