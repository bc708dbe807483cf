from __future__ import annotations

from pathlib import Path

import typer

from telecrm.console import import_csv, print_table
from telecrm.contracts import service
from telecrm.contracts.models import ContractStatus
from telecrm.contracts.scope import EVERYTHING
from telecrm.db import session_scope
from telecrm.money import trim_zeros

contracts_app = typer.Typer(help="Customer contracts (seed 004).", no_args_is_help=True)

FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV file.")


@contracts_app.command("import")
def import_contracts(path: Path = FILE) -> None:
    """Import contracts from CSV: company_name, accountcode, rate_group_id and optionally
    contact_person, email, phone, address, status, currency, tax_rate (percent),
    payment_terms_days. A known accountcode updates its contract. Every bad row is
    reported by line and nothing is imported unless all rows are good."""
    import_csv(path, service.import_contracts, "contracts")


@contracts_app.command("list")
def list_contracts(
    status: ContractStatus | None = typer.Option(None, help="Only contracts in this status."),
    rate_group_id: int | None = typer.Option(None, help="Only contracts of this rate group."),
) -> None:
    """List the contracts."""
    with session_scope() as session:
        contracts = service.list_contracts(
            session, EVERYTHING, status=status, rate_group_id=rate_group_id
        )
        print_table(
            f"{len(contracts)} contracts",
            ["id", "accountcode", "company", "status", "rate group", "currency", "tax %", "terms"],
            [
                (
                    c.id,
                    c.accountcode,
                    c.company_name,
                    c.status.value,
                    c.rate_group_id,
                    c.currency,
                    trim_zeros(c.tax_rate),
                    f"{c.payment_terms_days} d",
                )
                for c in contracts
            ],
        )
