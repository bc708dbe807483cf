"""``telecrm cdr sync`` throughput: valid CDRs pushed as calls to the local HubSpot
server (the tests' fake, on loopback) in batches of 100, each batch committed on its
own as the command does, into a migrated SQLite file. Figure: CDRs per second."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import func, insert, select
from tests.crm.fake_hubspot import FakeHubSpot

from telecrm import migrations
from telecrm.cdrs.crm_sync import service
from telecrm.cdrs.models import Cdr
from telecrm.config import Settings
from telecrm.db import make_engine, session_scope

CDRS = 20_000
KEY = "telecrm_cdr_key"
DATA = Path(__file__).parent / "data"
console = Console()


class IndexedHubSpot(FakeHubSpot):
    """The fake finds an upserted object by scanning every object, which at 20,000
    calls would measure the fake, not the sync: an index on the call key instead."""

    def __init__(self) -> None:
        super().__init__()
        self._by_key: dict[str, str] = {}

    def add(self, object_type: str, properties: Any, company: str | None = None) -> str:
        object_id = super().add(object_type, properties, company)
        if KEY in properties:
            self._by_key[str(properties[KEY])] = object_id
        return object_id

    def _find_by(self, object_type: str, id_property: str | None, value: str) -> dict | None:
        if id_property == KEY:
            object_id = self._by_key.get(value)
            return None if object_id is None else self.objects[object_type][object_id]
        return super()._find_by(object_type, id_property, value)


def _cdr_rows(count: int) -> list[dict[str, Any]]:
    start = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    return [
        {
            "unique_key": f"bench-{index:08d}",
            "call_id": f"1762000000.{index}",
            "accountcode": "ACC1",
            "src": "1001",
            "dst": f"0812{index:08d}",
            "start_time": start + dt.timedelta(seconds=index * 7),
            "end_time": start + dt.timedelta(seconds=index * 7 + 65),
            "duration": 65,
            "billsec": 60,
            "disposition": "ANSWERED",
            "status": "valid",
            "sync_status": "pending",
        }
        for index in range(count)
    ]


def main() -> None:
    DATA.mkdir(exist_ok=True)
    database = DATA / "cdr_sync.db"
    database.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(insert(Cdr), _cdr_rows(CDRS))
    with IndexedHubSpot() as hubspot:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{database}",
            hubspot_token=SecretStr(hubspot.token),
            hubspot_base_url=hubspot.url,
        )
        connector = service.LazyConnector.hubspot(settings)
        started = time.perf_counter()
        try:
            summary = service.sync_batch_by_batch(
                lambda: session_scope(engine), connector, settings
            )
        finally:
            connector.close()
        elapsed = time.perf_counter() - started
        calls = hubspot.count("calls")
    with engine.connect() as connection:
        synced = connection.scalar(select(func.count()).where(Cdr.sync_status == "synced"))
    engine.dispose()
    assert summary.synced == synced == calls == CDRS, (summary, synced, calls)
    console.print(
        f"cdr sync: {CDRS:,} CDRs in {summary.batches} batches of 100 in {elapsed:.2f} s "
        f"= [bold]{CDRS / elapsed:,.0f} CDRs/s[/bold] (SQLite, local HubSpot on loopback)"
    )
