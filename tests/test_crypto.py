from __future__ import annotations

import pytest

from telecrm import crypto
from telecrm.config import Settings
from telecrm.errors import AppError


def test_secrets_round_trip_and_are_not_stored_in_clear(settings: Settings) -> None:
    token = crypto.encrypt(settings, "pbx-db-password")
    assert "pbx-db-password" not in token
    assert crypto.decrypt(settings, token) == "pbx-db-password"


def test_another_key_cannot_decrypt(settings: Settings) -> None:
    token = crypto.encrypt(settings, "pbx-db-password")
    other = Settings(
        _env_file=None, database_url=settings.database_url, encryption_key=crypto.generate_key()
    )  # type: ignore[call-arg]
    with pytest.raises(AppError, match="not the key it was encrypted with"):
        crypto.decrypt(other, token)


def test_missing_or_malformed_key_is_a_clear_error(settings: Settings) -> None:
    missing = Settings(_env_file=None, database_url=settings.database_url)  # type: ignore[call-arg]
    with pytest.raises(AppError, match="TELECRM_ENCRYPTION_KEY is not set"):
        crypto.encrypt(missing, "x")
    malformed = Settings(_env_file=None, database_url=settings.database_url, encryption_key="short")  # type: ignore[call-arg]
    with pytest.raises(AppError, match="not a valid Fernet key"):
        crypto.encrypt(malformed, "x")
