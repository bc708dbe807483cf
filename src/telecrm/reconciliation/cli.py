"""The ``telecrm billing`` group: revenue assurance over what billing did."""

from __future__ import annotations

import csv
import enum
import sys

import typer

from telecrm.config import get_settings
from telecrm.console import console, err_console, print_table
from telecrm.db import session_scope
from telecrm.reconciliation import service
from telecrm.reconciliation.schemas import AccountReconciliation, Reconciliation

billing_app = typer.Typer(
    help="Revenue assurance: reconcile a month's calls with its invoices.", no_args_is_help=True
)


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


CSV_COLUMNS = ("section", "accountcode", "currency", "bucket", "detail", "calls", "money")


def _money(value: object) -> str:
    return "" if value is None else f"{value:f}"


def csv_rows(result: Reconciliation) -> list[tuple[object, ...]]:
    """One row per bucket (per unrated reason), invalid finding, invoice (and one more
    per invoice: the sum of its lines of the month's calls), and source and import,
    under the columns ``CSV_COLUMNS``."""
    rows: list[tuple[object, ...]] = []
    accounts = [("contract", a) for a in result.contracts] + [
        ("no_contract", a) for a in result.no_contract
    ]
    for section, account in accounts:
        currency = account.currency or ""
        for bucket in account.buckets:
            rows.append(
                (
                    section,
                    account.accountcode,
                    currency,
                    bucket.bucket,
                    bucket.reason or "",
                    bucket.calls,
                    _money(bucket.money),
                )
            )
        for finding, count in account.invalid_findings.items():
            rows.append(
                ("invalid_finding", account.accountcode, currency, "invalid", finding, count, "")
            )
        for invoice in account.invoices:
            rows.append(
                (
                    "invoice",
                    account.accountcode,
                    currency,
                    invoice.status.value,
                    invoice.invoice_number,
                    invoice.call_count,
                    _money(invoice.exact_subtotal),
                )
            )
            # what of it bills this month's calls: what the tie-out counts
            rows.append(
                (
                    "invoice_of_month",
                    account.accountcode,
                    currency,
                    invoice.status.value,
                    invoice.invoice_number,
                    "",
                    _money(invoice.month_exact),
                )
            )
    for received in result.received:
        rows.append(
            (
                "received",
                "",
                "",
                received.source or "",
                received.file_name
                or (f"import {received.import_id}" if received.import_id else ""),
                received.calls,
                "",
            )
        )
    return rows


def _print_accounts(title: str, accounts: list[AccountReconciliation]) -> None:
    print_table(
        title,
        ["accountcode", "bucket", "reason", "calls", "money", "currency"],
        [
            (
                account.accountcode,
                bucket.bucket,
                bucket.reason or "",
                f"{bucket.calls:,}",
                _money(bucket.money),
                account.currency or "",
            )
            for account in accounts
            for bucket in account.buckets
        ],
    )


def print_reconciliation(result: Reconciliation) -> None:
    period = f"{result.year}-{result.month:02d}"
    print_table(
        f"calls of {period} received",
        ["source", "import", "file", "calls", "duplicates skipped (import)", "rejected (import)"],
        [
            (
                r.source or "",
                r.import_id or "",
                r.file_name or "",
                f"{r.calls:,}",
                "" if r.duplicates is None else f"{r.duplicates:,}",
                "" if r.rejected is None else f"{r.rejected:,}",
            )
            for r in result.received
        ],
    )
    _print_accounts(f"calls of {period} per contract, each in one bucket", result.contracts)
    if result.no_contract:
        _print_accounts(
            f"calls of {period} of no contract (unknown account code)", result.no_contract
        )
    findings = [
        (account.accountcode, finding, f"{count:,}")
        for account in [*result.contracts, *result.no_contract]
        for finding, count in account.invalid_findings.items()
    ]
    if findings:
        print_table("invalid calls by finding", ["accountcode", "finding", "calls"], findings)
    print_table(
        f"invoices with calls of {period}",
        [
            "accountcode",
            "invoice",
            "month",
            "kind",
            "status",
            "calls",
            "exact subtotal",
            f"of {period}",
            "subtotal",
            "tax",
            "total",
        ],
        [
            (
                account.accountcode,
                invoice.invoice_number,
                invoice.month,
                invoice.kind.value,
                invoice.status.value,
                f"{invoice.call_count:,}",
                _money(invoice.exact_subtotal),
                _money(invoice.month_exact),
                _money(invoice.subtotal),
                _money(invoice.tax),
                _money(invoice.amount),
            )
            for account in result.contracts
            for invoice in account.invoices
        ],
    )
    print_table(
        f"tie-out: rated = invoices (exact, of {period}'s calls) + rated on no invoice",
        [
            "accountcode",
            "currency",
            "rated calls",
            "at zero",
            "rated",
            "invoices",
            "on no invoice",
            "",
        ],
        [
            (
                account.accountcode,
                account.currency or "",
                f"{account.rated_calls:,}",
                f"{account.rated_at_zero:,}",
                _money(account.rated_money),
                _money(account.invoiced_exact),
                _money(account.uninvoiced_money),
                "ties out" if account.ties_out else "DOES NOT TIE OUT",
            )
            for account in result.contracts
        ],
    )
    console.print(
        f"{period}: {result.calls:,} calls, {result.bucketed_calls:,} in the buckets; "
        + ("everything ties out" if result.ties_out else "[red]does not tie out[/red]")
    )


@billing_app.command("reconcile")
def reconcile(
    month: int = typer.Option(..., min=1, max=12, help="Month, 1-12."),
    year: int = typer.Option(..., min=2000, max=2100, help="Year, e.g. 2025."),
    output_format: OutputFormat = typer.Option(OutputFormat.TABLE, "--format"),
) -> None:
    """Account for every call of a month: each in exactly one bucket per contract
    (invalid, unrated, rated, on a draft, on a sent invoice, on no invoice...), with its
    money, tied out to the invoices. Exits 1 when the month does not tie out."""
    with session_scope() as session:
        result = service.reconcile(session, year, month, get_settings())
    if output_format == OutputFormat.JSON:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    elif output_format == OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(result))
    else:
        print_reconciliation(result)
    if not result.ties_out:
        for problem in result.problems:
            err_console.print(f"[red]does not tie out:[/red] {problem}", highlight=False)
        raise typer.Exit(1)
