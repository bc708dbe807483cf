from __future__ import annotations

import enum
import json
from pathlib import Path

import typer

from telecrm.config import get_settings
from telecrm.console import console
from telecrm.contracts.scope import EVERYTHING
from telecrm.db import session_scope
from telecrm.invoices import service
from telecrm.invoices.console import print_invoices
from telecrm.invoices.models import InvoiceStatus
from telecrm.invoices.schemas import GenerateSummary, InvoiceRead
from telecrm.money import format_amount

invoices_app = typer.Typer(help="Monthly invoices: generate, list, PDF.", no_args_is_help=True)

MONTH = typer.Option(..., min=1, max=12, help="Month, 1-12.")
YEAR = typer.Option(..., min=2000, max=2100, help="Year, e.g. 2025.")


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


def late_calls_line(summary: GenerateSummary) -> str:
    """What the run did with calls that arrived after their month's invoice was sent."""
    if not summary.late_calls_billed:
        return "late calls: none of earlier months to bill"
    where = "adjustments" if summary.late_calls_on == "adjustment" else "invoices"
    numbers = summary.late_calls_invoice_numbers
    shown = ", ".join(numbers[:3]) + (f" and {len(numbers) - 3} more" if len(numbers) > 3 else "")
    money = ", ".join(
        f"{currency} {format_amount(amount, currency)}"
        for currency, amount in summary.late_calls_amounts.items()
    )
    return (
        f"late calls: {summary.late_calls_billed:,} calls of earlier months on "
        f"{len(numbers)} {where} ({shown}): {money}"
    )


@invoices_app.command("generate")
def generate(month: int = MONTH, year: int = YEAR) -> None:
    """Draft invoices for every contract with rated calls in the month (boundaries at
    midnight in the billing time zone). Drafts are generated again; invoices that
    were sent, await approval or are paid are never touched."""
    settings = get_settings()
    with session_scope() as session:
        summary = service.generate(session, year, month, settings)
        invoices = service.list_invoices(session, EVERYTHING, settings.tz, year=year, month=month)
        console.print(
            f"{year}-{month:02d}: {summary.created} invoices created, {summary.updated} drafts "
            f"generated again, {summary.removed} drafts removed, {summary.kept} sent or paid "
            f"kept; {summary.invoiced_calls:,} rated calls invoiced"
        )
        console.print(late_calls_line(summary))
        if summary.late_calls:
            console.print(
                f"[yellow]{summary.late_calls:,} rated calls arrived after their month's "
                "invoice was sent: the contract's next month's invoice will bill them[/yellow]"
            )
        if summary.unrated_calls or summary.pending_calls or summary.invalid_calls:
            console.print(
                f"[yellow]not invoiced: {summary.unrated_calls:,} unrated calls, "
                f"{summary.invalid_calls:,} invalid calls (telecrm cdr export shows why), "
                f"{summary.pending_calls:,} calls not rated yet (telecrm cdr process-billing)"
                "[/yellow]"
            )
        print_invoices(f"invoices of {year}-{month:02d}", invoices)


@invoices_app.command("list")
def list_invoices(
    month: int | None = typer.Option(None, min=1, max=12, help="Only this month (with --year)."),
    year: int | None = typer.Option(None, min=2000, max=2100, help="Only this year's month."),
    status: InvoiceStatus | None = typer.Option(None, help="Only invoices in this status."),
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format"),
) -> None:
    """List invoices: number, accountcode, period, subtotal, tax, amount, currency,
    status, due date."""
    settings = get_settings()
    with session_scope(write=False) as session:
        invoices = service.list_invoices(
            session, EVERYTHING, settings.tz, year=year, month=month, status=status
        )
        if output_format == OutputFormat.JSON:
            rows = [
                InvoiceRead.model_validate(invoice).model_dump(mode="json") for invoice in invoices
            ]
            console.print_json(json.dumps(rows))
            return
        print_invoices(f"{len(invoices)} invoices", invoices)


@invoices_app.command("pdf")
def pdf(
    number: str = typer.Argument(..., help="The invoice number, e.g. INV-2025-000123."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Default: NUMBER.pdf"),
) -> None:
    """Write an invoice as PDF."""
    with session_scope(write=False) as session:
        invoice, content = service.invoice_pdf_by_number(
            session, EVERYTHING, number, get_settings()
        )
    target = output or Path(f"{invoice.invoice_number}.pdf")
    target.write_bytes(content)
    console.print(f"wrote {target} ({len(content):,} bytes)")
