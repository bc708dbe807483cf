"""Every operation of the OpenAPI, fuzzed with schemathesis against the application
(valid and invalid input, with an admin's credentials, over a few stored objects):
no answer is a 5xx, and every answer is as documented (status code, content type,
headers, body). Bounded by a few examples per operation, so it stays a unit test;
``TELECRM_FUZZ_EXAMPLES`` raises the number for a longer hunt."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telecrm.app import create_app
from telecrm.auth.models import Role
from telecrm.config import Settings
from tests import factories

EXAMPLES = int(os.environ.get("TELECRM_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture()
def fuzzed_app(settings: Settings, engine: Engine, app: FastAPI, db_session: Session) -> FastAPI:
    """The test application (its rolled-back sessions) over one stored object of each
    kind, so that lists answer items and some generated ids name something. A CDR
    source the fuzzer creates is fetched once, without waiting."""
    quick = settings.model_copy(
        update={"cdr_fetch_max_attempts": 1, "cdr_fetch_connect_timeout": 0.5}
    )
    fuzzed = create_app(settings=quick, engine=engine)
    fuzzed.dependency_overrides = app.dependency_overrides
    contract = factories.contract(db_session)
    factories.invoice(db_session, contract)
    factories.cdr(db_session, contract)
    account = factories.account(db_session)
    factories.contact(db_session, account)
    factories.deal(db_session, account)
    return fuzzed


def test_every_operation_answers_as_documented_and_never_5xx(
    fuzzed_app: FastAPI, auth_headers: Callable[..., dict[str, str]], subtests
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    headers = auth_headers(Role.ADMIN)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        with subtests.test(msg=operation.label):
            answers_as_documented()
