"""Secrets at rest (a PBX database password, a CRM token stored in a table) are
encrypted with Fernet under TELECRM_ENCRYPTION_KEY; the key never enters the
database."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from telecrm.config import Settings
from telecrm.errors import AppError


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _fernet(settings: Settings) -> Fernet:
    if settings.encryption_key is None:
        raise AppError(
            "TELECRM_ENCRYPTION_KEY is not set; secrets cannot be stored. Generate one: python "
            "-c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    try:
        return Fernet(settings.encryption_key.get_secret_value().encode())
    except ValueError as exc:
        raise AppError(
            "TELECRM_ENCRYPTION_KEY is not a valid Fernet key (32 bytes, base64)"
        ) from exc


def encrypt(settings: Settings, plaintext: str) -> str:
    return _fernet(settings).encrypt(plaintext.encode()).decode()


def decrypt(settings: Settings, token: str) -> str:
    try:
        return _fernet(settings).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise AppError(
            "a stored secret cannot be decrypted: TELECRM_ENCRYPTION_KEY is not the key it was "
            "encrypted with"
        ) from exc
