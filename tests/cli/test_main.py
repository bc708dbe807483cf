"""The command line: help for every group, one clear line for every failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import Engine

from telecrm import migrations
from telecrm.cli.main import COMMANDS
from tests.crm.fake_hubspot import FakeHubSpot


def test_help_lists_every_group_with_its_help(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for name, lazy in COMMANDS.items():
        assert f" {name} " in result.stdout
        assert lazy.help in result.stdout


@pytest.mark.parametrize("group", [name for name, lazy in COMMANDS.items() if not lazy.single])
def test_every_group_shows_its_help(cli, group: str) -> None:
    result = cli(group, "--help")
    assert result.exit_code == 0
    assert f"Usage: telecrm {group} [OPTIONS] COMMAND [ARGS]..." in result.stdout
    assert COMMANDS[group].help in result.stdout


def test_usage_error_is_reported_without_a_traceback(cli) -> None:
    result = cli(
        "users", "create", "--email", "a@example.com", "--role", "boss", "--password", "x" * 12
    )
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert "Traceback" not in result.output


def test_db_current_and_upgrade_report_the_revision(cli, committed_db: Engine) -> None:
    head = migrations.head_revision()
    current = cli("db", "current")
    assert current.exit_code == 0
    assert f"database revision: {head}; newest: {head} (up to date)" in current.stdout
    assert cli("db", "upgrade").stdout.strip() == f"database already at revision {head}"


def test_a_database_that_cannot_be_reached_is_one_line(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELECRM_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    from telecrm.config import get_settings

    get_settings.cache_clear()
    result = cli("users", "list")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: database error: connection failed")


def test_bad_settings_are_one_line(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELECRM_TIMEZONE", "Mars/Olympus")
    from telecrm.config import get_settings

    get_settings.cache_clear()
    result = cli("users", "list")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: invalid settings: timezone: Value error, unknown time zone 'Mars/Olympus' "
        "(use an IANA name)"
    )


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_failed_crm_command_ends_on_its_error_not_under_http_request_lines(
    cli, hubspot: FakeHubSpot, monkeypatch: pytest.MonkeyPatch, tmp_path, level: str
) -> None:
    """httpx logs every request at INFO; only DEBUG, where they help, shows them."""
    from telecrm.config import get_settings

    for name, value in {
        "TELECRM_HUBSPOT_TOKEN": hubspot.token,
        "TELECRM_HUBSPOT_BASE_URL": hubspot.url,
        "TELECRM_HUBSPOT_BACKOFF_SECONDS": "0",
        "TELECRM_HUBSPOT_MAX_ATTEMPTS": "3",
        "TELECRM_LOG_LEVEL": level,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    hubspot.fail(503, times=3, path_contains="/companies")

    result = cli("crm", "extract", "--output", str(tmp_path), "--domain", "accounts")

    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "503" in errors[0]
    assert ("HTTP Request" in result.output) == (level == "DEBUG")


def test_serve_refuses_to_start_without_a_secret_key(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELECRM_SECRET_KEY")
    from telecrm.config import get_settings

    get_settings.cache_clear()
    result = cli("serve")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: TELECRM_SECRET_KEY is not set")


def test_serve_refuses_a_short_secret_key_in_one_line(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELECRM_SECRET_KEY", "too-short-a-key")
    from telecrm.config import get_settings

    get_settings.cache_clear()
    # half a TLS configuration: a server that wrongly started would stop right after
    result = cli("serve", "--ssl-certfile", "cert.pem")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELECRM_SECRET_KEY" in lines[0]
    assert "at least 32 characters" in lines[0] and "too-short-a-key" not in lines[0]


def test_serve_refuses_half_a_tls_configuration(cli) -> None:
    result = cli("serve", "--ssl-certfile", "cert.pem")
    assert result.exit_code == 1
    assert "needs both --ssl-certfile and --ssl-keyfile" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_health_and_logs_in_over_real_http(
    cli, committed_db: Engine, database_url: str
) -> None:
    cli("users", "create", "--email", "ops@example.com", "--role", "viewer", "--password", "xk" * 6)
    port = _free_port()
    env = {**os.environ, "TELECRM_DATABASE_URL": database_url, "TELECRM_SECRET_KEY": "k" * 40}
    process = subprocess.Popen(
        [sys.executable, "-m", "telecrm", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"server did not come up: {output}")
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/users", timeout=5).status_code == 401
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/token",
            data={"username": "ops@example.com", "password": "xk" * 6},
            timeout=5,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/auth/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert me.json()["name"] == "ops@example.com"
    finally:
        process.terminate()
        process.wait(timeout=10)
