"""Passwords, login throttling, JWT tokens and API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from telecrm.auth import repository, usage
from telecrm.auth.models import ApiKey, BoundContract, Role, User
from telecrm.config import Settings
from telecrm.db import utcnow
from telecrm.errors import (
    ApiKeyNotFound,
    EmailTaken,
    NotAuthenticated,
    TooManyRequests,
    UserNotFound,
    ValidationFailed,
)

log = logging.getLogger(__name__)

# OWASP's minimum argon2id parameters: 19 MiB, 2 passes.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not a password of anyone")
API_KEY_PREFIX = "tcrm"
_JWT_ALGORITHM = "HS256"
_API_KEY_CACHE_SECONDS = 60.0
_verified_api_keys: dict[str, tuple[int, float]] = {}
_API_KEY_USE_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is making a request: a user (token) or a machine (API key)."""

    kind: str
    id: int
    name: str
    role: Role
    user: User | None = None
    # an API key's: when its use was last noted (see ``note_api_key_use``)
    last_used_at: dt.datetime | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}:{self.name}"


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _common_passwords() -> frozenset[str]:
    """The most used passwords (``common_passwords.txt``, one a line), lower-cased."""
    text = resources.files("telecrm.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password_policy(password: str, settings: Settings) -> None:
    if not password.strip():
        problem, message = "blank", "password is blank"
    elif len(password) < settings.password_min_length:
        problem = "too short"
        message = f"password too short: at least {settings.password_min_length} characters"
    elif len(set(password)) == 1:
        problem, message = "one character repeated", "password is one character repeated"
    elif password.strip().lower() in _common_passwords():
        problem = "too common"
        message = "password is too common: it is on the list of the most used passwords"
    else:
        return
    raise ValidationFailed(message, detail=[{"field": "password", "message": problem}])


def _contract_binding(
    session: Session, role: Role, accountcode: str | None
) -> BoundContract | None:
    """The contract a user of ``role`` is bound to: a customer must name one (by its
    account code), nobody else may."""
    if role is not Role.CUSTOMER:
        if accountcode is not None:
            raise ValidationFailed(
                f"only a customer user is bound to a contract, not a user of role {role.value}",
                detail=[{"field": "contract", "message": "only for role customer"}],
            )
        return None
    if accountcode is None:
        raise ValidationFailed(
            "a customer user needs a contract: give the account code of its contract",
            detail=[{"field": "contract", "message": "required for role customer"}],
        )
    contract = usage.contract_by_accountcode.ask(session, accountcode.strip())
    if contract is None:
        raise ValidationFailed(
            f"no contract with account code {accountcode.strip()}",
            detail=[{"field": "contract", "message": "unknown account code"}],
        )
    return contract


# --- users -------------------------------------------------------------------


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role,
    settings: Settings,
    contract: str | None = None,
) -> User:
    """``contract``: the account code of the contract a customer user sees."""
    email = email.strip().lower()
    check_password_policy(password, settings)
    bound = _contract_binding(session, role, contract)
    if repository.get_user_by_email(session, email) is not None:
        raise EmailTaken(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        password_hash=hash_secret(password),
        role=role,
        is_active=True,
        contract=bound,
    )
    repository.add(session, user)
    repository.forget_login_failures(session, _email_hash(email))
    return user


def list_users(session: Session, contract_id: int | None = None) -> Sequence[User]:
    """Every user, or only the customer users of one contract."""
    return repository.list_users(session, contract_id)


def get_user(session: Session, user_id: int) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise UserNotFound(f"user {user_id} not found")
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = repository.get_user_by_email(session, email.strip().lower())
    if user is None:
        raise UserNotFound(f"no user with e-mail {email}")
    return user


def update_user(
    session: Session,
    user_id: int,
    settings: Settings,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
    contract: str | None = None,
) -> User:
    """``contract``: rebind a customer to the contract of that account code. A user
    who stops being a customer is unbound; one who becomes a customer must name one."""
    user = get_user(session, user_id)
    if role is not None or contract is not None:
        new_role = role if role is not None else user.role
        if contract is not None or new_role is not Role.CUSTOMER or user.contract_id is None:
            user.contract = _contract_binding(session, new_role, contract)
        user.role = new_role
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        check_password_policy(password, settings)
        user.password_hash = hash_secret(password)
        user.failed_logins = 0
        user.locked_until = None
        # the tokens issued with the old password stop working
        user.token_version += 1
    session.flush()
    return user


# --- login and tokens --------------------------------------------------------


def _lockout_seconds(failures: int, settings: Settings) -> int:
    """No delay for the first failures, then 1, 2, 4 ... seconds, capped."""
    over = failures - settings.login_max_failures
    if over < 0:
        return 0
    return int(min(2**over, settings.login_lockout_max_seconds))


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


def _refuse_while_locked(locked_until: dt.datetime | None, now: dt.datetime, who: str) -> None:
    if locked_until is not None and locked_until > now:
        wait = max(1, int((locked_until - now).total_seconds() + 0.999))
        log.warning("login refused for %s: locked for %s s after failed logins", who, wait)
        raise TooManyRequests(f"too many failed logins; try again in {wait} s", retry_after=wait)


def _refuse_failed(who: str, failures: int, delay: int) -> NotAuthenticated:
    log.warning(
        "failed login for %s (%d in a row%s)",
        who,
        failures,
        f", next attempt allowed in {delay} s" if delay else "",
    )
    return NotAuthenticated("wrong e-mail or password", keep_changes=True)


def _refuse_unknown_email(
    session: Session, email: str, password: str, now: dt.datetime, settings: Settings
) -> NotAuthenticated:
    """Throttle an e-mail without an account as an account is, with the same answers
    and about the same work (a password check), so none of them tells it apart."""
    email_hash, who = _email_hash(email), f"unknown e-mail {email!r}"
    _refuse_while_locked(repository.login_locked_until(session, email_hash), now, who)
    verify_secret(_DUMMY_HASH, password)
    failures = repository.count_login_failure(session, email_hash, now)
    delay = _lockout_seconds(failures, settings)
    if delay:
        repository.lock_login(session, email_hash, now + dt.timedelta(seconds=delay))
    return _refuse_failed(who, failures, delay)


def login(
    session: Session, email: str, password: str, settings: Settings
) -> tuple[str, dt.datetime]:
    """Check the password and issue a token. Failures are counted per e-mail (on the
    user, or in ``login_failures`` for an e-mail without an account), and past
    ``login_max_failures`` each further attempt must wait longer."""
    now = utcnow()
    email = email.strip().lower()
    user = repository.get_user_by_email(session, email)
    if user is None:
        raise _refuse_unknown_email(session, email, password, now, settings)
    _refuse_while_locked(user.locked_until, now, user.email)
    if not verify_secret(user.password_hash, password) or not user.is_active:
        failures = repository.count_user_login_failure(session, user.id)
        set_committed_value(user, "failed_logins", failures)  # as the database now holds
        delay = _lockout_seconds(failures, settings)
        if delay:
            user.locked_until = now + dt.timedelta(seconds=delay)
        session.flush()
        raise _refuse_failed(user.email, failures, delay)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return issue_token(user, settings)


def _secret_key(settings: Settings) -> str:
    if settings.secret_key is None:
        raise NotAuthenticated("the server has no TELECRM_SECRET_KEY; tokens are disabled")
    return settings.secret_key.get_secret_value()


def issue_token(user: User, settings: Settings) -> tuple[str, dt.datetime]:
    now = utcnow()
    expires_at = now + dt.timedelta(minutes=settings.token_expire_minutes)
    claims = {
        "sub": str(user.id),
        "role": user.role.value,
        "ver": user.token_version,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, _secret_key(settings), algorithm=_JWT_ALGORITHM), expires_at


def principal_from_token(session: Session, token: str, settings: Settings) -> Principal:
    try:
        claims = jwt.decode(
            token,
            _secret_key(settings),
            algorithms=[_JWT_ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        user_id = int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("token expired; log in again") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise NotAuthenticated("invalid token") from exc
    user = repository.get_user(session, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the token's user no longer exists or is disabled")
    # a token from before this claim existed is of version 0, as its user then was
    if claims.get("ver", 0) != user.token_version:
        raise NotAuthenticated("the password was changed since this token was issued; log in again")
    return Principal(kind="user", id=user.id, name=user.email, role=user.role, user=user)


# --- API keys ----------------------------------------------------------------


def create_api_key(
    session: Session, name: str, role: Role, created_by_id: int | None = None
) -> tuple[ApiKey, str]:
    """Returns the stored key and the key itself, which is never shown again. A key
    carries a role but no contract, so it cannot be a customer's: a customer key
    would be bound to nothing and see nothing."""
    if role is Role.CUSTOMER:
        raise ValidationFailed(
            "an API key cannot have role customer: a key is bound to no contract; "
            "a customer signs in as a user bound to its contract",
            detail=[{"field": "role", "message": "not for an API key"}],
        )
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        name=name.strip(),
        role=role,
        prefix=prefix,
        key_hash=hash_secret(key),
        created_by_id=created_by_id,
    )
    repository.add(session, api_key)
    return api_key, key


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return repository.list_api_keys(session)


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    api_key = repository.get_api_key(session, key_id)
    if api_key is None:
        raise ApiKeyNotFound(f"API key {key_id} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    return api_key


def principal_from_api_key(session: Session, key: str) -> Principal:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise NotAuthenticated("malformed API key")
    api_key = repository.get_api_key_by_prefix(session, parts[1])
    if api_key is None or api_key.revoked_at is not None:
        raise NotAuthenticated("unknown or revoked API key")
    # argon2 is slow by design; a key verified in the last minute is not hashed again.
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    cached = _verified_api_keys.get(fingerprint)
    if cached is None or cached[0] != api_key.id or cached[1] < time.monotonic():
        if not verify_secret(api_key.key_hash, key):
            raise NotAuthenticated("unknown or revoked API key")
        _verified_api_keys[fingerprint] = (api_key.id, time.monotonic() + _API_KEY_CACHE_SECONDS)
    return Principal(
        kind="api_key",
        id=api_key.id,
        name=api_key.name,
        role=api_key.role,
        last_used_at=api_key.last_used_at,
    )


def api_key_use_due(principal: Principal) -> bool:
    """Whether an API key's use is to be noted: at most once a minute."""
    if principal.kind != "api_key":
        return False
    last = principal.last_used_at
    return last is None or utcnow() - last > _API_KEY_USE_EVERY


def note_api_key_use(session: Session, principal: Principal) -> None:
    """``last_used_at`` is advisory: one conditional write, which a concurrent note of
    the same key within the minute leaves out."""
    now = utcnow()
    repository.note_api_key_use(session, principal.id, now, now - _API_KEY_USE_EVERY)
