"""The ``telecrm`` command: one Typer app, one group per domain, each imported only
when one of its commands runs (telecrm.cli.lazy)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import typer
from pydantic import ValidationError
from rich.logging import RichHandler
from sqlalchemy.exc import SQLAlchemyError

import telecrm.models  # noqa: F401  (every table known before the first query)
from telecrm.cli.lazy import LazyCommand, LazyGroup
from telecrm.config import get_settings
from telecrm.console import err_console
from telecrm.errors import AppError
from telecrm.observability.logs import configure_logging

# Every command of ``telecrm``, in the order ``telecrm --help`` lists them, with the
# first paragraph of its help.
COMMANDS = {
    "demo": LazyCommand(
        "telecrm.cli.demo:app",
        "Load the demo data set (migrating the database first) and print a summary.",
        single=True,
    ),
    "serve": LazyCommand(
        "telecrm.cli.serve:app",
        "Serve the HTTP API (OpenAPI at /docs). Stateless: run several behind a load balancer.",
        single=True,
    ),
    "worker": LazyCommand(
        "telecrm.cli.worker:app",
        "Run the background jobs until SIGTERM or Ctrl-C (the task in hand is finished first).",
        single=True,
    ),
    "beat": LazyCommand(
        "telecrm.cli.worker:beat_app",
        "Send the periodic schedule's jobs to the workers (Celery beat; run exactly one).",
        single=True,
    ),
    "jobs": LazyCommand(
        "telecrm.jobs.cli:jobs_app", "Background jobs: start them, read their state and progress."
    ),
    "db": LazyCommand(
        "telecrm.cli.db:app",
        "Database schema: migrate, show the revision; the CDR partitions and retention.",
    ),
    "users": LazyCommand("telecrm.auth.cli:users_app", "People who log in to the API."),
    "api-keys": LazyCommand(
        "telecrm.auth.cli:api_keys_app", "Keys for machines (a PBX pushing CDRs)."
    ),
    "crm": LazyCommand(
        "telecrm.crm.cli:crm_app",
        "The CRM (accounts, contacts, deals): extract from HubSpot, update, aggregate.",
    ),
    "contracts": LazyCommand(
        "telecrm.contracts.cli:contracts_app", "Customer contracts (seed 004)."
    ),
    "rate-groups": LazyCommand(
        "telecrm.rates.cli:rate_groups_app", "Rate groups: named price lists."
    ),
    "rates": LazyCommand("telecrm.rates.cli:rates_app", "Rates: the price of calls to a prefix."),
    "invoices": LazyCommand(
        "telecrm.invoices.cli:invoices_app", "Monthly invoices: generate, list, PDF."
    ),
    "billing": LazyCommand(
        "telecrm.reconciliation.cli:billing_app",
        "Revenue assurance: reconcile a month's calls with its invoices.",
    ),
    "cdr": LazyCommand(
        "telecrm.cdrs.cli:cdr_app",
        "Call detail records: import PBX files, rate them, export them.",
    ),
}


class TelecrmGroup(LazyGroup):
    lazy_commands = COMMANDS


app = typer.Typer(
    cls=TelecrmGroup,
    help="telecrm: telecom CRM and billing. Settings come from TELECRM_* variables or .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _configure_logging() -> None:
    if get_settings().log_format == "json":
        configure_logging(get_settings())
    else:
        logging.basicConfig(
            level=get_settings().log_level,
            format="%(message)s",
            handlers=[RichHandler(console=err_console, show_path=False)],
            force=True,
        )
    # Their INFO lines (alembic's steps, one "HTTP Request: ..." line per request of
    # httpx) would bury a command's own output and its one-line error; DEBUG has them.
    quiet = logging.NOTSET if get_settings().log_level == "DEBUG" else logging.WARNING
    for chatty in ("alembic", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(quiet)


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
