from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from telecrm.cdrs.sources.push import unwrap
from telecrm.errors import ValidationFailed

# A mod_json_cdr document as FreeSWITCH writes it (values URL-encoded, encode_values=true).
FREESWITCH_CDR = {
    "core-uuid": "2b1a3f6c-0d54-4bde-9b8c-1f6d5d1c2a11",
    "switchname": "fs-jakarta-1",
    "channel_data": {"state": "CS_REPORTING", "direction": "outbound"},
    "variables": {
        "uuid": "a5b7b0f2-3c5e-4c1a-9d1e-4bb8f1f2c001",
        "caller_id_number": "1001",
        "destination_number": "08123456789",
        "start_stamp": "2025-11-05%2009%3A30%3A00",
        "hangup_cause": "NORMAL_CLEARING",
        "duration": "66",
        "billsec": "61",
    },
    "callflow": [{"profile_index": "1"}],
}


def test_mod_json_cdr_form_post_the_default() -> None:
    body = ("cdr=" + quote(json.dumps(FREESWITCH_CDR), safe="")).encode()
    pushed = unwrap(body, "application/x-www-form-urlencoded")
    assert pushed.kind == "freeswitch-json"
    assert pushed.documents == [FREESWITCH_CDR]


def test_mod_json_cdr_base64_post_keeps_plus_signs() -> None:
    document = {**FREESWITCH_CDR, "variables": {**FREESWITCH_CDR["variables"], "x": "+>>>?"}}
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    assert "+" in encoded or "/" in encoded
    pushed = unwrap(f"cdr={encoded}".encode(), "application/x-www-form-base64-encoded")
    assert pushed.documents == [document]


def test_mod_json_cdr_raw_json_post() -> None:
    pushed = unwrap(json.dumps(FREESWITCH_CDR).encode(), "application/json")
    assert (pushed.kind, pushed.documents) == ("freeswitch-json", [FREESWITCH_CDR])


@pytest.mark.parametrize("wrap", [lambda rows: {"cdrs": rows}, lambda rows: rows])
def test_a_plain_batch(wrap) -> None:  # type: ignore[no-untyped-def]
    rows = [{"call_id": "c1", "src": "1001", "dst": "0812"}, {"call_id": "c2"}]
    pushed = unwrap(json.dumps(wrap(rows)).encode(), "application/json; charset=utf-8")
    assert (pushed.kind, pushed.documents) == ("batch", rows)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "the body is not JSON"),
        (b"who=me", "application/x-www-form-urlencoded", "needs a cdr field"),
        (b"cdr=%7Bbroken", "application/x-www-form-urlencoded", "the cdr field is not JSON"),
        (b'{"hello": 1}', "application/json", "expected a FreeSWITCH mod_json_cdr document"),
        (b"[1, 2]", "application/json", "a list of objects"),
        (b"<cdr/>", "application/xml", "content type 'application/xml'"),
    ],
)
def test_what_cannot_be_read_is_a_clear_422(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        unwrap(body, content_type)
