from __future__ import annotations

import typer

from telecrm.auth import service
from telecrm.auth.models import Role
from telecrm.config import get_settings
from telecrm.console import console, print_table
from telecrm.db import session_scope
from telecrm.errors import AppError

users_app = typer.Typer(help="People who log in to the API.", no_args_is_help=True)
api_keys_app = typer.Typer(help="Keys for machines (a PBX pushing CDRs).", no_args_is_help=True)


@users_app.command("create")
def create_user(
    email: str = typer.Option(..., help="Login e-mail."),
    role: Role = typer.Option(..., help="What the user may do."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted."
    ),
    contract: str | None = typer.Option(
        None,
        metavar="ACCOUNTCODE",
        help="Role customer: the account code of the contract the user sees (required).",
    ),
) -> None:
    """Create a user."""
    if role is Role.CUSTOMER and contract is None:
        raise AppError("a customer user needs --contract ACCOUNTCODE (its contract's account code)")
    if role is not Role.CUSTOMER and contract is not None:
        raise AppError(f"--contract is for role customer only, not {role.value}")
    with session_scope() as session:
        user = service.create_user(session, email, password, role, get_settings(), contract)
        bound = f", contract {user.contract_accountcode}" if user.contract_id else ""
        console.print(f"created user {user.id}: {user.email} ({user.role.value}{bound})")


@users_app.command("list")
def list_users() -> None:
    """List the users."""
    with session_scope() as session:
        users = service.list_users(session)
        print_table(
            f"{len(users)} users",
            ["id", "email", "role", "contract", "active", "last login"],
            [
                (
                    u.id,
                    u.email,
                    u.role.value,
                    u.contract_accountcode or "",
                    "yes" if u.is_active else "no",
                    u.last_login_at,
                )
                for u in users
            ],
        )


@users_app.command("set-password")
def set_password(
    email: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password (and lift a login lockout)."""
    with session_scope() as session:
        user = service.get_user_by_email(session, email)
        service.update_user(session, user.id, get_settings(), password=password)
        console.print(f"password of {user.email} changed")


@users_app.command("deactivate")
def deactivate(email: str = typer.Option(...)) -> None:
    """Disable a user's logins and tokens."""
    with session_scope() as session:
        user = service.get_user_by_email(session, email)
        service.update_user(session, user.id, get_settings(), is_active=False)
        console.print(f"user {user.email} deactivated")


@api_keys_app.command("create")
def create_api_key(
    name: str = typer.Option(..., help="What the key is for, e.g. 'pbx-jakarta-1'."),
    role: Role = typer.Option(Role.PBX, help="The key's role (any but customer)."),
) -> None:
    """Create an API key and print it once."""
    if role is Role.CUSTOMER:
        raise AppError(
            "--role customer is not for an API key (a key is bound to no contract): "
            "create a customer user with users create --role customer --contract ACCOUNTCODE"
        )
    with session_scope() as session:
        api_key, key = service.create_api_key(session, name, role)
        console.print(f"created API key {api_key.id} '{api_key.name}' ({api_key.role.value})")
        console.print("the key, shown this once (send it as the X-API-Key header):")
        console.print(key, markup=False, highlight=False)


@api_keys_app.command("list")
def list_api_keys() -> None:
    """List the API keys (never the keys themselves)."""
    with session_scope() as session:
        keys = service.list_api_keys(session)
        print_table(
            f"{len(keys)} API keys",
            ["id", "name", "role", "prefix", "created", "revoked", "last used"],
            [
                (k.id, k.name, k.role.value, k.prefix, k.created_at, k.revoked_at, k.last_used_at)
                for k in keys
            ],
        )


@api_keys_app.command("revoke")
def revoke_api_key(key_id: int = typer.Argument(..., help="The key's id (see 'list').")) -> None:
    """Revoke an API key: it stops working at once."""
    with session_scope() as session:
        api_key = service.revoke_api_key(session, key_id)
        console.print(f"API key {api_key.id} '{api_key.name}' revoked at {api_key.revoked_at}")
