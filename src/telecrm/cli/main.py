"""The ``telecrm`` command: one Typer app, one group per domain."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import typer
from pydantic import ValidationError
from rich.logging import RichHandler
from sqlalchemy.exc import SQLAlchemyError

import telecrm.models  # noqa: F401  (every table known before the first query)
from telecrm.auth.cli import api_keys_app, users_app
from telecrm.cdrs.cli import cdr_app
from telecrm.cli import db, demo, serve, worker
from telecrm.cli.console import err_console
from telecrm.config import get_settings
from telecrm.contracts.cli import contracts_app
from telecrm.crm.cli import crm_app
from telecrm.errors import AppError
from telecrm.invoices.cli import invoices_app
from telecrm.rates.cli import rate_groups_app, rates_app

app = typer.Typer(
    help="telecrm: telecom CRM and billing. Settings come from TELECRM_* variables or .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(crm_app, name="crm")
app.add_typer(contracts_app, name="contracts")
app.add_typer(rate_groups_app, name="rate-groups")
app.add_typer(rates_app, name="rates")
app.add_typer(invoices_app, name="invoices")
app.add_typer(cdr_app, name="cdr")
app.registered_commands += demo.app.registered_commands + serve.app.registered_commands
app.registered_commands += worker.app.registered_commands


@app.callback()
def _configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )
    if get_settings().log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _database_message(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = (
        str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
    )
    return f"database error: {first_line}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; any failure is one line on stderr and a non-zero status."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="telecrm")
    except SystemExit as exc:  # Typer's own ending: success, --help, or a usage error shown
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except AppError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
        return 1
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        err_console.print(f"[red]error:[/red] invalid settings: {problems}", highlight=False)
        return 1
    except SQLAlchemyError as exc:
        logging.getLogger(__name__).debug("database error", exc_info=exc)
        err_console.print(f"[red]error:[/red] {_database_message(exc)}", highlight=False)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:
        logging.getLogger(__name__).debug("unexpected error", exc_info=exc)
        err_console.print(
            f"[red]error:[/red] {type(exc).__name__}: {exc} "
            "(TELECRM_LOG_LEVEL=DEBUG shows the traceback)",
            highlight=False,
        )
        return 1
    return 0


def run() -> None:
    sys.exit(main())
