"""The unit of work and the settings of an API request, as typed FastAPI
dependencies. Kept out of ``telecrm.db`` so that the models, the CLI and the jobs
load without FastAPI. The principal's aliases live in ``telecrm.auth.dependencies``,
which imports this module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from telecrm.cache import SETTINGS_INFO
from telecrm.config import Settings
from telecrm.db import unit_of_work

# Requests that only read; any other may write, and its unit of work is a writer's.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The unit of work of one API request."""
    state = request.app.state
    factory = state.session_factory if request.method in READ_METHODS else state.write_sessions
    session: Session = factory()
    session.info[SETTINGS_INFO] = state.settings
    try:
        with unit_of_work(session):
            yield session
    finally:
        session.close()


# scope="function": the commit happens before the response is sent, so a client
# never sees 2xx for a change that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_app_settings(request: Request) -> Settings:
    # async: nothing to wait for, so no trip through the thread pool
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
