"""Durability of a push, with real processes: a 2xx means the call is stored and will be
imported once, whether the server is killed (kill -9) right after answering or a drain
is killed half-way."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from sqlalchemy import Engine, func, select

from telecrm.auth import service as auth_service
from telecrm.auth.models import Role
from telecrm.cdrs.models import Cdr
from telecrm.cdrs.sources import repository
from telecrm.cdrs.sources.models import CdrFetchRun, CdrSource, StagedPush
from telecrm.db import session_scope

TELECRM = [sys.executable, "-m", "telecrm"]


def _call(call_id: str) -> bytes:
    row = {
        "call_id": call_id,
        "src": "1001",
        "dst": "081234567890",
        "start_time": "2025-11-05T09:00:00Z",
        "duration": 70,
        "billsec": 61,
        "disposition": "ANSWERED",
    }
    return json.dumps({"cdrs": [row]}).encode()


def _setup(engine: Engine) -> str:
    with session_scope(engine) as session:
        session.add(CdrSource(name="fs-1", type="push", params={}))
        _, key = auth_service.create_api_key(session, "fs-1", Role.PBX)
    return key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(drain_seconds: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {**os.environ, "TELECRM_PUSH_DRAIN_SECONDS": str(drain_seconds)}
    server = subprocess.Popen(
        [*TELECRM, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).is_success:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("telecrm serve did not start")
        yield base, server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(30)


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    """CDRs stored, posts still staged, and the runs' imported and duplicates."""
    with session_scope(engine, write=False) as session:
        stored = session.scalar(select(func.count()).select_from(Cdr)) or 0
        staged = session.scalar(select(func.count()).select_from(StagedPush)) or 0
        imported, duplicates = session.execute(
            select(
                func.coalesce(func.sum(CdrFetchRun.imported), 0),
                func.coalesce(func.sum(CdrFetchRun.duplicates), 0),
            )
        ).one()
    return int(stored), int(staged), int(imported), int(duplicates)


def _wait_drained(engine: Engine, expected: int) -> tuple[int, int, int, int]:
    deadline = time.monotonic() + 180  # a loaded CI machine is slow, never this slow
    while time.monotonic() < deadline:
        counts = _counts(engine)
        if counts[1] == 0 and counts[0] >= expected:
            return counts
        time.sleep(0.1)
    return _counts(engine)


def test_a_call_answered_202_survives_kill_9_and_is_imported_once(
    committed_db: Engine,
) -> None:
    key = _setup(committed_db)
    # this server does not drain: the call is only in the staging table when it dies
    with _server(drain_seconds=0) as (base, server):
        response = httpx.post(
            f"{base}/api/cdrs/push?source=fs-1",
            content=_call("k.1"),
            headers={"X-API-Key": key, "Content-Type": "application/json"},
        )
        server.send_signal(signal.SIGKILL)
    assert response.status_code == 202, response.text
    assert _counts(committed_db)[:2] == (0, 1)

    with _server(drain_seconds=0.1):
        counts = _wait_drained(committed_db, 1)

    assert counts == (1, 0, 1, 0)


def test_calls_posted_while_the_server_drains_and_dies_are_each_imported_once(
    committed_db: Engine,
) -> None:
    key = _setup(committed_db)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with (
        _server(drain_seconds=0.05) as (base, server),
        httpx.Client(base_url=base, timeout=60) as client,
    ):

        def post(number: int) -> int:
            try:
                return client.post(
                    "/api/cdrs/push?source=fs-1", content=_call(f"c.{number}"), headers=headers
                ).status_code
            except httpx.TransportError:
                return 0  # no answer: the client does not know, and sends it again

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(post, range(150)))
        server.send_signal(signal.SIGKILL)  # right after the last answer, mid-drain or not
    accepted = {f"c.{number}" for number, status in enumerate(statuses) if status == 202}
    assert len(accepted) > 100, statuses

    with _server(drain_seconds=0.1):
        stored, staged, imported, duplicates = _wait_drained(committed_db, len(accepted))

    with session_scope(committed_db, write=False) as session:
        call_ids = set(session.scalars(select(Cdr.call_id)))
    # every 202 imported; a post left unanswered may be too (at most once, as any call)
    assert accepted <= call_ids
    assert (staged, imported, duplicates) == (0, stored, 0)


def test_a_drain_killed_half_way_imports_each_staged_post_once(committed_db: Engine) -> None:
    with session_scope(committed_db) as session:
        session.add(CdrSource(name="fs-1", type="push", params={}))
        session.flush()
        for number in range(600):
            repository.stage_push(
                session, "fs-1", "api_key:1:fs", "application/json", _call(f"d.{number}")
            )
    env = {**os.environ, "TELECRM_PUSH_DRAIN_BATCH": "10"}
    drain = subprocess.Popen(
        [*TELECRM, "cdr", "sources", "drain"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180  # the command's start-up included
        while time.monotonic() < deadline:
            stored, _, _, _ = _counts(committed_db)
            if stored or drain.poll() is not None:
                break
            time.sleep(0.02)
        drain.send_signal(signal.SIGKILL)
    finally:
        drain.wait(30)
    part_stored, part_staged, _, _ = _counts(committed_db)
    assert 0 < part_stored < 600 and part_stored + part_staged == 600  # killed half-way

    again = subprocess.run(
        [*TELECRM, "cdr", "sources", "drain"], env=env, capture_output=True, text=True
    )

    assert again.returncode == 0, again.stderr
    assert f"drained {part_staged:,} posts" in again.stdout
    assert _counts(committed_db) == (600, 0, 600, 0)
