from __future__ import annotations

import os
import secrets

import typer
import uvicorn
from uvicorn.config import LOGGING_CONFIG

from telecrm import migrations
from telecrm.config import get_settings
from telecrm.console import console
from telecrm.errors import AppError
from telecrm.observability.logs import logging_config

app = typer.Typer()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    ssl_certfile: str | None = typer.Option(None, help="TLS certificate (PEM): serve HTTPS."),
    ssl_keyfile: str | None = typer.Option(None, help="TLS private key (PEM)."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1", help="Proxies whose X-Forwarded-* headers are trusted."
    ),
    demo: bool = typer.Option(
        False, help="Demo mode: without TELECRM_SECRET_KEY, use a throw-away key."
    ),
) -> None:
    """Serve the HTTP API (OpenAPI at /docs). Stateless: run several behind a load balancer."""
    settings = get_settings()
    if settings.secret_key is None:
        if not demo:
            raise AppError(
                "TELECRM_SECRET_KEY is not set; the API signs its tokens with it. Generate one: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        # Set in the environment so that every worker process signs with the same key.
        os.environ["TELECRM_SECRET_KEY"] = secrets.token_urlsafe(48)
        get_settings.cache_clear()
        console.print("demo mode: tokens are signed with a throw-away key")
    if demo:
        os.environ["TELECRM_DEMO"] = "true"  # the sign-in page lists the demo users
        get_settings.cache_clear()
    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise AppError("TLS needs both --ssl-certfile and --ssl-keyfile")
    revision, head = migrations.current_revision(), migrations.head_revision()
    if revision != head:
        raise AppError(
            f"the database is at revision {revision or 'none'}, this version needs {head}: "
            "run 'telecrm db upgrade' first"
        )
    scheme = "https" if ssl_certfile else "http"
    console.print(
        f"serving telecrm on {scheme}://{host}:{port}: the console at /, API docs at /docs"
    )
    uvicorn.run(
        "telecrm.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=settings.log_level.lower(),
        # uvicorn's own format unless JSON lines are asked for (each process applies it)
        log_config=logging_config(settings) if settings.log_format == "json" else LOGGING_CONFIG,
    )
