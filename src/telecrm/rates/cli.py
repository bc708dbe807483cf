from __future__ import annotations

from pathlib import Path

import typer

from telecrm.config import get_settings
from telecrm.console import import_csv, print_table
from telecrm.db import session_scope
from telecrm.money import trim_zeros
from telecrm.rates import imports, service

rate_groups_app = typer.Typer(help="Rate groups: named price lists.", no_args_is_help=True)
rates_app = typer.Typer(help="Rates: the price of calls to a prefix.", no_args_is_help=True)

FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A CSV file.")


@rate_groups_app.command("import")
def import_rate_groups(path: Path = FILE) -> None:
    """Import rate groups from CSV with the columns id,name,memo. A known id updates
    its group; a new id creates the group with that id."""
    import_csv(path, imports.import_groups, "rate groups")


@rate_groups_app.command("list")
def list_rate_groups() -> None:
    """List the rate groups with their numbers of rates and contracts."""
    with session_scope() as session:
        groups = service.list_groups(session)
        print_table(
            f"{len(groups)} rate groups",
            ["id", "name", "rates", "contracts", "memo"],
            [(g.id, g.name, g.rate_count, g.contract_count, g.memo) for g in groups],
        )


@rates_app.command("import")
def import_rates(path: Path = FILE) -> None:
    """Import a rate deck from CSV: rate_group_id, rate_prefix, rate_type, billing_rate,
    billing_cycle and optionally area_prefix, description, initial_increment,
    connect_fee, effective_from, effective_to (a date or time without a zone is in
    the billing time zone). A row matching a rate's group, prefixes and
    effective_from updates it. Every bad row is reported by line and nothing is
    imported unless all rows are good."""
    tz = get_settings().tz

    import_csv(
        path,
        lambda session, stream, name: imports.import_rates(session, stream, name, tz),
        "rates",
    )


@rates_app.command("list")
def list_rates(
    rate_group_id: int = typer.Argument(..., help="The rate group."),
    prefix: str | None = typer.Option(None, help="Only destinations starting with this."),
) -> None:
    """List a rate group's rates."""
    tz = get_settings().tz
    with session_scope() as session:
        rates = service.list_rates(session, rate_group_id, tz, prefix=prefix)
        print_table(
            f"{len(rates)} rates of rate group {rate_group_id}",
            [
                "id",
                "prefix",
                "description",
                "type",
                "rate",
                "cycle",
                "initial",
                "connect",
                "from",
                "to",
            ],
            [
                (
                    r.id,
                    r.destination_prefix,
                    r.description,
                    r.rate_type.value,
                    trim_zeros(r.billing_rate),
                    r.billing_cycle,
                    r.initial_increment,
                    trim_zeros(r.connect_fee),
                    r.effective_from.astimezone(tz) if r.effective_from else None,
                    r.effective_to.astimezone(tz) if r.effective_to else None,
                )
                for r in rates
            ],
        )
