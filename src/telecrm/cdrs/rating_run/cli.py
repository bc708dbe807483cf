"""``telecrm cdr process-billing`` (a command of the ``cdr`` group)."""

from __future__ import annotations

import typer

from telecrm.cdrs.rating_run import service
from telecrm.cdrs.window import command_window
from telecrm.config import get_settings
from telecrm.console import print_table, progress
from telecrm.db import session_scope


def process_billing(
    date: str | None = typer.Option(None, help="The day to rate (YYYY-MM-DD)."),
    first: str | None = typer.Option(None, "--from", help="First day of a range."),
    last: str | None = typer.Option(None, "--to", help="Last day of a range (included)."),
    rerate: bool = typer.Option(
        False, help="Rate rated CDRs again too (not those on a sent or paid invoice)."
    ),
) -> None:
    """Rate the CDRs of a day or a range of days of the billing time zone, and say
    what became of every call of the window: rated, at zero, unrated and invalid."""
    start, end, words = command_window(date, first, last)
    settings = get_settings()
    with progress() as bar, session_scope() as session:
        task = bar.add_task("rating", total=max((end - start).days, 1))
        summary = service.process_billing(
            session,
            start,
            end,
            rerate,
            settings,
            on_day=lambda day, count: bar.advance(task),
        )
    rows: list[tuple[str, object]] = [
        ("CDRs processed", summary.processed),
        ("ratings changed", summary.changed),
        ("rated", summary.rated),
        ("rated at zero cost", summary.zero_cost),
    ]
    rows += [(f"unrated: {reason}", n) for reason, n in sorted(summary.unrated.items())]
    rows += [("excluded as invalid", summary.invalid)]
    rows += [(f"invalid: {reason}", n) for reason, n in sorted(summary.invalid_findings.items())]
    if summary.unvalidated:
        rows += [("not validated yet (telecrm cdr validate)", summary.unvalidated)]
    rows += [
        (f"total cost {currency}", f"{total:f}")
        for currency, total in sorted(summary.cost_by_currency.items())
    ]
    print_table(f"process-billing {words}", ["", ""], rows)
