"""What a role may do, read from the API's own routes: a page offers a button only when
the API route behind it would let the user through. One role table (each route's
``auth.dependencies.require(...)``) decides for the API and the pages alike."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from telecrm.auth.models import Role

ANY_ROLE = frozenset(Role)


def _roles_of(dependant: Dependant) -> frozenset[Role] | None:
    """The roles the route's ``require(...)`` allows; ``None`` when it has none (then any
    authenticated principal, or anyone, may call it)."""
    for sub in dependant.dependencies:
        allowed = getattr(sub.call, "allowed_roles", None)
        if allowed is not None:
            return frozenset(allowed)
        found = _roles_of(sub)
        if found is not None:
            return found
    return None


def route_roles(routes: Iterable[BaseRoute]) -> dict[tuple[str, str], frozenset[Role]]:
    """(method, path template) -> the roles its ``require``/``page_require`` allows."""
    table: dict[tuple[str, str], frozenset[Role]] = {}
    for context in iter_route_contexts(list(routes)):
        if isinstance(context.route, APIRoute):
            roles = _roles_of(context.route.dependant)
            for method in context.methods or ():
                table[(method, str(context.path))] = ANY_ROLE if roles is None else roles
    return table


@cache
def _table(app: FastAPI) -> dict[tuple[str, str], frozenset[Role]]:
    return route_roles(app.routes)


def allowed_roles(app: FastAPI, method: str, path: str) -> frozenset[Role]:
    """The roles allowed to call ``METHOD path`` (the route's template, e.g.
    ``/api/invoices/{invoice_id}/send``); ``KeyError`` for a route the app lacks, so a
    page cannot ask about a route that does not exist."""
    return _table(app)[(method.upper(), path)]


def may(app: FastAPI, role: Role, method: str, path: str) -> bool:
    return role in allowed_roles(app, method, path)


def page_roles(app: FastAPI) -> dict[tuple[str, str], frozenset[Role]]:
    """The same table, for the pages' navigation."""
    return _table(app)
