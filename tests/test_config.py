from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from telecrm.config import DEFAULT_SQLITE_FILE, Settings
from tests.fresh_process import imported_by


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_default_database_is_a_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TELECRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = _settings()
    assert settings.database_url == f"sqlite:///{tmp_path / DEFAULT_SQLITE_FILE}"
    assert settings.is_sqlite
    assert settings.timezone == "UTC"
    assert settings.secret_key is None
    assert settings.late_calls == "next_invoice"


@pytest.mark.parametrize(
    "url",
    ["postgresql://u@db:5432/x?sslmode=require", "postgres://u@db:5432/x?sslmode=require"],
)
def test_plain_postgresql_urls_use_psycopg_3_and_keep_their_options(url: str) -> None:
    settings = _settings(database_url=url)
    assert settings.database_url == "postgresql+psycopg://u@db:5432/x?sslmode=require"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELECRM_TIMEZONE", "Asia/Jakarta")
    key = "s3cret-" + "k" * 32
    monkeypatch.setenv("TELECRM_SECRET_KEY", key)
    monkeypatch.setenv("TELECRM_LOG_LEVEL", "debug")
    settings = _settings()
    assert settings.tz.key == "Asia/Jakarta"
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == key
    assert settings.log_level == "DEBUG"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("log_level", "LOUD", "log level must be"),
        ("password_min_length", 4, "greater than or equal to 8"),
        ("late_calls", "never", "'next_invoice' or 'adjustment'"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _settings(**{field: value})
    assert excinfo.value.errors()[0]["loc"] == (field,)
    assert message in str(excinfo.value)


@pytest.mark.parametrize("key", ["s3cret", "k" * 31, " " * 40])
def test_a_short_secret_key_is_refused_naming_the_variable(key: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        _settings(secret_key=key)
    assert excinfo.value.errors()[0]["loc"] == ("secret_key",)
    assert "TELECRM_SECRET_KEY" in str(excinfo.value)
    assert "at least 32 characters" in str(excinfo.value)
    assert key.strip() == "" or key not in str(excinfo.value)
    assert _settings(secret_key="k" * 32).secret_key is not None


def test_rewrite_rules_are_checked_when_the_settings_load() -> None:
    assert _settings(rewrite_rules=[["9", ""], ["0", "62"]]).rewrite_rules == [
        ("9", ""),
        ("0", "62"),
    ]
    with pytest.raises(ValidationError) as excinfo:
        _settings(rewrite_rules=[["+", ""], ["", "62"]])
    assert excinfo.value.errors()[0]["loc"] == ("rewrite_rules",)
    assert "rewrite rule 2: the prefix is empty" in str(excinfo.value)


def test_the_settings_import_nothing_above_the_kernel(tmp_path: Path) -> None:
    """Every layer reads the settings: were they to import a domain, that domain could
    never read them back without a cycle."""
    imported = imported_by("import telecrm.config", tmp_path)
    above = {name for name in imported.modules if name.startswith("telecrm.")}
    # The CRM's field contract (standard library only, importing nothing of telecrm)
    # is read to refuse an unknown field of TELECRM_HUBSPOT_PROPERTIES at start.
    contract = {"telecrm.crm", "telecrm.crm.connector"}
    assert above <= {"telecrm.config", "telecrm.numbering", *contract}
