"""Push ingestion against ``/api/health`` on the same server, in the same run.

A real ``telecrm serve`` (1, then 2 worker processes) on loopback; CLIENTS concurrent
httpx clients, each sending one request at a time: FreeSWITCH mod_json_cdr posts
(one call each, form-encoded, the API key as the Basic password, as mod_json_cdr
sends it) to ``POST /api/cdrs/push``, and ``GET /api/health``, alternately in rounds
of SECONDS each, so that both see the same load from the rest of the machine.
Figures: requests per second and p50/p95/p99 latency of each, and the ratio of the
two. A round of pushes lasts until every call it posted is imported (the server
answers 202 and imports in batches): its rate counts that wait too. Every accepted
call must be imported, once.

PostgreSQL on ``TELECRM_BENCH_POSTGRES_URL`` (default: the local server), a new
database per server size; then SQLite for information.
``TELECRM_BENCH_PUSH_SECONDS`` (default 8) and ``TELECRM_BENCH_PUSH_PROCESSES``
(default ``1,2``) shorten or narrow a run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from rich.console import Console
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from telecrm import migrations
from telecrm.auth import service as auth_service
from telecrm.auth.models import Role
from telecrm.cdrs.models import Cdr
from telecrm.cdrs.sources.models import CdrSource
from telecrm.config import Settings
from telecrm.db import make_engine, session_scope

CLIENTS = 8
ROUNDS = 3
SECONDS = float(os.environ.get("TELECRM_BENCH_PUSH_SECONDS", "8"))
PROCESSES = [int(n) for n in os.environ.get("TELECRM_BENCH_PUSH_PROCESSES", "1,2").split(",")]
POSTGRES = os.environ.get(
    "TELECRM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SOURCE = "bench-fs"
DATA = Path(__file__).parent / "data"
console = Console()


def _document(call: str) -> bytes:
    """One call as FreeSWITCH's mod_json_cdr posts it (its default, a form field)."""
    document = {
        "core-uuid": "2b1a3f6c-0d54-4bde-9b8c-1f6d5d1c2a11",
        "switchname": "fs-bench-1",
        "channel_data": {"state": "CS_REPORTING", "direction": "outbound"},
        "variables": {
            "uuid": call,
            "accountcode": "ACC1",
            "caller_id_number": "1001",
            "destination_number": "081234567890",
            "start_stamp": "2025-11-05%2016%3A00%3A00",
            "answer_stamp": "2025-11-05%2016%3A00%3A04",
            "end_stamp": "2025-11-05%2016%3A01%3A09",
            "duration": "65",
            "billsec": "61",
            "hangup_cause": "NORMAL_CLEARING",
            "last_app": "bridge",
        },
        "callflow": [
            {
                "caller_profile": {
                    "caller_id_number": "1001",
                    "destination_number": "081234567890",
                    "context": "default",
                    "chan_name": "sofia/internal/1001@10.0.0.2",
                }
            }
        ],
    }
    return ("cdr=" + quote(json.dumps(document), safe="")).encode()


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by a server process and its worker processes."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_server_cpu(int(child)) for child in children)


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # the server's CPU seconds meanwhile

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies) or [float("nan")]
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:>6}: {self.rate:7.1f}/s  p50 {self.percentile(50):6.1f} ms  "
            f"p95 {self.percentile(95):6.1f} ms  p99 {self.percentile(99):6.1f} ms"
            + f"  server CPU {self.cpu / max(1, len(self.latencies)) * 1000:.2f} ms each"
            + (f"  ({self.failures} failed)" if self.failures else "")
        )


async def _load(base: str, phase: Phase, seconds: float, headers: dict[str, str]) -> None:
    """CLIENTS clients, each one request at a time, for ``seconds``."""
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    if phase.name == "push":
                        response = await client.post(
                            f"/api/cdrs/push?source={SOURCE}",
                            content=_document(f"bench-{uuid.uuid4()}"),
                            headers=headers,
                        )
                    else:
                        response = await client.get("/api/health")
                except httpx.TransportError:  # a dropped connection: a failure, counted
                    phase.failures += 1
                    continue
                if response.is_success:
                    phase.latencies.append(time.perf_counter() - started)
                else:
                    phase.failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
        phase.seconds += time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(url: str, processes: int) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "TELECRM_DATABASE_URL": url,
        "TELECRM_SECRET_KEY": "bench-" + "k" * 48,
        "TELECRM_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "telecrm", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(processes)], env=env, stdout=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("telecrm serve did not answer within 30 s")
        yield base, server.pid
    finally:
        server.terminate()
        try:
            server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _prepare(url: str) -> str:
    """Migrate, add the push source and a pbx API key; returns the key."""
    engine = make_engine(url)
    migrations.upgrade(engine)
    with session_scope(engine) as session:
        session.add(CdrSource(name=SOURCE, type="push", params={"timezone": "Asia/Jakarta"}))
        _, key = auth_service.create_api_key(session, "bench-fs", Role.PBX)
    engine.dispose()
    return key


def _imported(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Cdr).where(Cdr.source == SOURCE))
    return int(count or 0)


def _wait_imported(engine: Engine, expected: int) -> float:
    """Seconds until every accepted call is a CDR (or 120 s without progress)."""
    started = time.perf_counter()
    last, last_change = -1, started
    while (count := _imported(engine)) < expected:
        if count != last:
            last, last_change = count, time.perf_counter()
        if time.perf_counter() - last_change > 120:
            break
        time.sleep(0.05)
    return time.perf_counter() - started


def _machine_load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def measure(url: str, processes: int, label: str) -> tuple[Phase, Phase]:
    key = _prepare(url)
    basic = base64.b64encode(f"fs:{key}".encode()).decode()
    headers = {
        "Authorization": f"Basic {basic}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    push, health = Phase("push"), Phase("health")
    engine = make_engine(url)
    with _server(url, processes) as (base, pid):
        warm = Phase("push")
        asyncio.run(_load(base, warm, 1.0, headers))  # warm up both
        asyncio.run(_load(base, Phase("health"), 1.0, headers))
        accepted = len(warm.latencies)
        _wait_imported(engine, accepted)
        for _ in range(ROUNDS):
            round_health, round_push = Phase("health"), Phase("push")
            cpu = _server_cpu(pid)
            asyncio.run(_load(base, round_health, SECONDS, headers))
            round_health.cpu, cpu = _server_cpu(pid) - cpu, _server_cpu(pid)
            asyncio.run(_load(base, round_push, SECONDS, headers))
            # a round of pushes lasts until its calls are imported, not only answered
            accepted += len(round_push.latencies)
            round_push.seconds += _wait_imported(engine, accepted)
            round_push.cpu = _server_cpu(pid) - cpu
            console.print(
                f"  round: health {round_health.rate:.1f}/s, push {round_push.rate:.1f}/s "
                f"= {round_push.rate / round_health.rate:.0%} ({_machine_load()})"
            )
            for total, part in ((health, round_health), (push, round_push)):
                total.latencies += part.latencies
                total.failures += part.failures
                total.seconds += part.seconds
                total.cpu += part.cpu
        count = _imported(engine)
    engine.dispose()
    console.print(f"{label}, {processes} server process(es), {CLIENTS} clients:")
    console.print("  " + health.line())
    console.print("  " + push.line())
    cpu_ratio = (health.cpu / len(health.latencies)) / max(
        1e-9, push.cpu / max(1, len(push.latencies))
    )
    console.print(
        f"  push / health = {push.rate / health.rate:.0%} (target 50%); server CPU per "
        f"request, health / push = {cpu_ratio:.0%}; "
        f"{count:,} of {accepted:,} accepted calls imported"
    )
    if count != accepted:
        console.print(f"  [red]{accepted - count} accepted calls are missing[/red]")
    return push, health


@contextmanager
def _postgres_database() -> Iterator[str]:
    server = make_url(Settings.model_validate({"database_url": POSTGRES}).database_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"telecrm_bench_push_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    DATA.mkdir(exist_ok=True)
    for processes in PROCESSES:
        with _postgres_database() as url:
            measure(url, processes, "PostgreSQL")
    for processes in PROCESSES:
        database = DATA / f"push_{processes}.db"
        database.unlink(missing_ok=True)
        measure(f"sqlite:///{database}", processes, "SQLite")
