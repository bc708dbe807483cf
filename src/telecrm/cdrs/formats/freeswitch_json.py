"""FreeSWITCH's ``mod_json_cdr``: one JSON document per call (``<uuid>.cdr.json``,
written on one line, so a folder's files put together are one document per line).

Read from the document (``switch_ivr_generate_json_cdr``): ``variables``, the channel
variables, each value URL-encoded as the default ``encode-values=true`` writes them,
and ``callflow`` (an object in older versions, a list in newer ones) whose
``caller_profile`` holds the caller and the number dialled, not encoded. Stamps are the
switch's local time, as in ``mod_cdr_csv``.

Each document is decoded by Python's json module, one by one: the format is one
document per call, so the work per call is the format's own.
A value may hold a NUL that the bytes do not (``\\u0000``, ``%00``): its fields are
always checked for one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import polars as pl

from telecrm.cdrs.formats.base import CANONICAL, REJECT_SCHEMA, Chunk, Parsed
from telecrm.cdrs.formats.freeswitch_csv import freeswitch_columns

NAME = "freeswitch-json"

# canonical field -> channel variable
_VARIABLES = {
    "accountcode": "accountcode",
    "lastapp": "last_app",
    "lastdata": "last_arg",
    "start": "start_stamp",
    "answer": "answer_stamp",
    "end": "end_stamp",
    "duration": "duration",
    "billsec": "billsec",
    "uniqueid": "uuid",
    "hangup_cause": "hangup_cause",
}
# canonical field -> caller profile field (the variable of the same name as fallback)
_PROFILE = {
    "caller_id_name": "caller_id_name",
    "src": "caller_id_number",
    "dst": "destination_number",
    "dcontext": "context",
    "channel": "chan_name",
}
_COLUMNS = (*_VARIABLES, *_PROFILE)


def parse(chunk: Chunk) -> Parsed:
    rows: list[tuple[Any, ...]] = []
    rejects: list[tuple[int, str]] = []
    texts = chunk.data.decode("utf-8", errors="replace").split("\n")[: chunk.line_count]
    for line, text in enumerate(texts, start=chunk.first_line):
        if not text.strip():
            continue
        try:
            values = _call(json.loads(text))
        except (json.JSONDecodeError, ValueError) as exc:
            rejects.append((line, str(exc)))
            continue
        rows.append((*(values.get(column) for column in _COLUMNS), line))
    frame = pl.DataFrame(
        rows,
        schema={column: pl.String for column in _COLUMNS} | {"line": pl.Int64},
        orient="row",
    )
    frame = frame.with_columns(
        [pl.lit(None, pl.String).alias(name) for name in CANONICAL if name not in _COLUMNS]
    ).with_columns(freeswitch_columns(pl.col("caller_id_name"), pl.col("hangup_cause")))
    return Parsed(
        frame.select(*CANONICAL, "line", "identity"),
        pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row"),
    )


def _call(document: Any) -> dict[str, str | None]:
    if not isinstance(document, dict) or not isinstance(document.get("variables"), dict):
        raise ValueError("not a mod_json_cdr document (no variables)")
    variables = document["variables"]
    flow = document.get("callflow")
    if isinstance(flow, list):
        flow = flow[0] if flow else {}
    profile = flow.get("caller_profile", {}) if isinstance(flow, dict) else {}
    values: dict[str, str | None] = {
        name: _decoded(variables.get(variable)) for name, variable in _VARIABLES.items()
    }
    for name, field in _PROFILE.items():
        given = profile.get(field)
        values[name] = str(given) if given is not None else _decoded(variables.get(field))
    if not values["uniqueid"]:
        raise ValueError("the document has no uuid")
    return values


def _decoded(value: Any) -> str | None:
    return None if value is None else unquote(str(value))
